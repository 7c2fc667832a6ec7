//! The screen at 80×24, 100×30, 120×30 and 200×50, drawn with ratatui's TestBackend from
//! synthetic events and from bundled captures (the connection page, sorted lists), compared
//! with the committed snapshots in tests/snapshots/. Highlighted filter matches, which the
//! plain text drops, are drawn between `«` and `»` by [`marked_screen`].

mod tuiutil;

use ratatui::style::Color;
use tuiutil::{capture_app, drawn, keys, screen};
use wsnoop::tui::model::{Model, Progress};
use wsnoop::tui::testdata::sample;
use wsnoop::tui::{App, Feed};

fn app() -> App {
    let mut app = App::new(Model::new(1 << 20), "sample.pcap");
    app.feed(Feed::Events(sample()));
    app.feed(Feed::Progress(Progress {
        offset: 4096,
        size: Some(4096),
        packets: 42,
        bytes: 6000,
        done: true,
    }));
    app.feed(Feed::Done(None));
    app.settle();
    app
}

/// The screen's lines with the cells drawn in the match style (black on yellow) between `«`
/// and `»`.
fn marked_screen(app: &mut App, w: u16, h: u16) -> String {
    let t = drawn(app, w, h);
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..h {
        let mut inside = false;
        for x in 0..w {
            let cell = &buf[(x, y)];
            let hit = cell.bg == Color::Yellow && cell.fg == Color::Black;
            if hit != inside {
                out.push(if hit { '«' } else { '»' });
                inside = hit;
            }
            out.push_str(cell.symbol());
        }
        if inside {
            out.push('»');
        }
        out.push('\n');
    }
    out
}

/// The highlighted runs of each line, top to bottom.
fn highlighted(app: &mut App, w: u16, h: u16) -> Vec<String> {
    marked_screen(app, w, h)
        .split('«')
        .skip(1)
        .filter_map(|s| s.split('»').next())
        .map(str::to_string)
        .collect()
}

/// Every screen is drawn at these sizes: the smallest supported, the stacked layout with room,
/// the side-by-side layout's first width, and a wide terminal.
const SIZES: [(u16, u16); 4] = [(80, 24), (100, 30), (120, 30), (200, 50)];

macro_rules! both_sizes {
    ($name:ident, $keys:expr) => {
        #[test]
        fn $name() {
            for (w, h) in SIZES {
                let mut a = app();
                keys(&mut a, $keys);
                insta::assert_snapshot!(
                    format!("{}_{w}x{h}", stringify!($name)),
                    screen(&mut a, w, h)
                );
            }
        }
    };
}

// The first message, JSON, pretty-printed in the detail pane.
both_sizes!(json_message, "");
// A binary message as hex + ASCII, detail focused.
both_sizes!(binary_message, "jjj\n");
// The compressed, fragmented message: wire size and both frames.
both_sizes!(compressed_message, "jjjjjj\n");
// A close frame: code, RFC name, reason.
both_sizes!(close_message, "G");
// Connections pane focused on the mid-stream connection; its messages with the anomaly.
both_sizes!(connections, "\t\tjj");
// Filter prompt open, narrowed as typed.
both_sizes!(filter_typing, "/hello");
// Filter for anomalies, absolute times.
both_sizes!(anomaly_filter_absolute_time, "/anomaly\nt");
// Chart in bytes and the help overlay on top.
both_sizes!(help_overlay, "b?");

// Mark mode (`f`) with absolute times (`t`): the mark and the time keep a space apart.
both_sizes!(mark_absolute_time, "/hello\nft");
// The long text message: the detail pane wraps it at word boundaries.
both_sizes!(wrapped_text, "jj\n");
// `c` on the first message: the status line says what was copied.
both_sizes!(copied_payload, "c");

// A text term and a regex term, highlighted in the previews and in the detail pane.
#[test]
fn filter_matches_highlighted() {
    for (w, h) in SIZES {
        let mut a = app();
        keys(&mut a, "/ticker or re:pri.e\n");
        insta::assert_snapshot!(
            format!("filter_matches_highlighted_{w}x{h}"),
            marked_screen(&mut a, w, h)
        );
    }
}

/// The match style is on exactly the matched characters: the first message's preview and
/// its detail (case folded: `/TICKER`), nothing in the list's other columns.
#[test]
fn only_matched_characters_are_highlighted() {
    let mut a = app();
    keys(&mut a, "/TICKER\n");
    // 200 columns: the whole preview and the JSON in the detail pane are on screen.
    assert_eq!(highlighted(&mut a, 200, 50), ["ticker", "ticker"]);
    let mut a = app();
    // A negated term marks nothing; `17`-like digits in sizes are never searched.
    keys(&mut a, "/!ticker\n");
    assert_eq!(highlighted(&mut a, 200, 50), Vec::<String>::new());
    let mut a = app();
    keys(&mut a, "/re:^plain.text\n");
    assert_eq!(highlighted(&mut a, 200, 50), ["plain text", "plain text"]);
}

macro_rules! capture_sizes {
    ($name:ident, $rel:expr, $keylog:expr, $keys:expr) => {
        #[test]
        fn $name() {
            for (w, h) in SIZES {
                let mut a = capture_app($rel, $keylog);
                keys(&mut a, $keys);
                insta::assert_snapshot!(
                    format!("{}_{w}x{h}", stringify!($name)),
                    screen(&mut a, w, h)
                );
            }
        }
    };
}

// The connection page of a cleartext connection.
capture_sizes!(page_cleartext, "py_basic_echo.pcap", None, "\t\tji");
// Its request and response headers, scrolled to the end.
capture_sizes!(
    page_cleartext_headers,
    "py_basic_echo.pcap",
    None,
    "\t\tjiG"
);
// A wss:// connection: TLS 1.3 figures, a long URL wrapped, deflate ratio, RTT.
capture_sizes!(
    page_tls,
    "tls/wss_tls13_aes128gcm.pcap",
    Some("tls/wss_tls13_aes128gcm.keys"),
    "\t\tji"
);
capture_sizes!(
    page_tls_headers,
    "tls/wss_tls13_aes128gcm.pcap",
    Some("tls/wss_tls13_aes128gcm.keys"),
    "\t\tjiG"
);
// Connection 2 selected, then the list sorted by bytes, largest first: 2 stays selected.
capture_sizes!(
    sorted_by_bytes,
    "py_concurrent_clients.pcap",
    None,
    "\t\tjjssssS"
);
// HTTP/2 streams over TLS, marked, sorted by URI.
capture_sizes!(
    sorted_by_uri_h2_tls,
    "h2/h2_chromium_tls13.pcap",
    Some("h2/h2_chromium_tls13.keys"),
    "\t\tss"
);

// A refused upgrade (403) is a row of its own in the message list, without a connection.
capture_sizes!(refused_upgrade_list, "py_rejected_upgrade.pcap", None, "");
// Refused upgrades among real connections, selected by the URI they asked for: only the 400
// of `/echo` stays (the other refusal asked for `/forbidden`).
capture_sizes!(
    refused_upgrade_filtered,
    "py_rejected_upgrade.pcap",
    None,
    "/uri:echo\n"
);
