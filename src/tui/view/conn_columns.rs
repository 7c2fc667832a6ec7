//! The connections list's columns, sized from the pane's width and what the rows hold: the
//! endpoints get the width they need (the server is the last thing cut: see
//! [`endpoints`]), the URI takes what is left; the subprotocol and extension columns appear
//! when some row has one and the URI keeps room.

/// A column of the connections list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Col {
    Id,
    Endpoints,
    Uri,
    Proto,
    Ext,
    C2s,
    S2c,
    State,
    Anom,
}

impl Col {
    pub fn title(self) -> &'static str {
        match self {
            Col::Id => "#",
            Col::Endpoints => "client → server",
            Col::Uri => "uri",
            Col::Proto => "proto",
            Col::Ext => "ext",
            Col::C2s => "→ c2s",
            Col::S2c => "← s2c",
            Col::State => "state",
            Col::Anom => "anom",
        }
    }
}

/// The widest cell of each column among the rows drawn (titles included by [`plan`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Natural {
    pub id: usize,
    pub endpoints: usize,
    pub proto: usize,
    pub ext: usize,
    pub c2s: usize,
    pub s2c: usize,
    pub state: usize,
    pub anom: usize,
}

/// The URI column keeps at least this much before the endpoints are cut.
const URI_MIN: usize = 6;
/// The optional columns are shown only while the URI keeps this much.
const URI_ROOM: usize = 16;
/// Subprotocol and extension names are cut past this.
const NAME_MAX: usize = 12;

/// Columns and their widths for a pane `width` characters wide (one space between columns).
pub fn plan(width: usize, n: Natural) -> Vec<(Col, usize)> {
    let at_least = |col: Col, w: usize| w.max(col.title().chars().count());
    let fixed = [
        (Col::Id, at_least(Col::Id, n.id)),
        (Col::C2s, at_least(Col::C2s, n.c2s)),
        (Col::S2c, at_least(Col::S2c, n.s2c)),
        (Col::State, at_least(Col::State, n.state)),
        (Col::Anom, at_least(Col::Anom, n.anom)),
    ];
    // Seven columns, six spaces.
    let base: usize = fixed.iter().map(|(_, w)| w).sum::<usize>() + 6;
    let avail = width.saturating_sub(base);
    let ep = at_least(Col::Endpoints, n.endpoints).min(avail.saturating_sub(URI_MIN));
    let mut uri = avail - ep;
    let mut optional = Vec::new();
    for (col, natural) in [(Col::Proto, n.proto), (Col::Ext, n.ext)] {
        let w = at_least(col, natural.min(NAME_MAX));
        if natural > 0 && uri > URI_ROOM + w {
            uri -= w + 1;
            optional.push((col, w));
        }
    }
    let [id, c2s, s2c, state, anom] = fixed;
    let mut cols = vec![id, (Col::Endpoints, ep), (Col::Uri, uri)];
    cols.extend(optional);
    cols.extend([c2s, s2c, state, anom]);
    cols
}

/// `client → server` in `width` characters: when it does not fit, the client is cut first
/// (`10.0.… → 10.0.0.2:8080`), the server only when even it does not fit.
pub fn endpoints(client: &str, server: &str, width: usize) -> String {
    let whole = format!("{client} → {server}");
    let len = whole.chars().count();
    if len <= width {
        return whole;
    }
    let server_len = server.chars().count();
    // At least two characters of the client (one and the mark).
    match width.checked_sub(server_len + 3) {
        Some(room) if room >= 2 => format!("{} → {server}", super::fit(client, room)),
        _ => super::fit(&whole, width),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn natural() -> Natural {
        Natural {
            id: 1,
            endpoints: 32,
            proto: 7,
            ext: 7,
            c2s: 12,
            s2c: 12,
            state: 3,
            anom: 2,
        }
    }

    fn widths(width: usize) -> Vec<(Col, usize)> {
        plan(width, natural())
    }

    #[test]
    fn the_endpoints_fit_whole_at_100_columns_with_the_subprotocol() {
        // A 100-column terminal: 98 inside the borders.
        assert_eq!(
            widths(98),
            [
                (Col::Id, 1),
                (Col::Endpoints, 32),
                (Col::Uri, 18),
                (Col::Proto, 7),
                (Col::C2s, 12),
                (Col::S2c, 12),
                (Col::State, 5),
                (Col::Anom, 4),
            ]
        );
    }

    #[test]
    fn wide_panes_add_proto_and_ext_and_give_the_rest_to_the_uri() {
        let w = widths(198);
        assert_eq!(w.iter().map(|(_, w)| w + 1).sum::<usize>() - 1, 198);
        assert_eq!(w[1], (Col::Endpoints, 32));
        assert_eq!(w[2], (Col::Uri, 110));
        assert_eq!(&w[3..5], [(Col::Proto, 7), (Col::Ext, 7)]);
    }

    #[test]
    fn narrow_panes_cut_the_endpoints_after_the_uri_minimum() {
        assert_eq!(widths(78)[1], (Col::Endpoints, 32));
        let w = widths(70);
        assert_eq!(w[1], (Col::Endpoints, 24));
        assert_eq!(w[2], (Col::Uri, URI_MIN));
        assert_eq!(w.len(), 7);
    }

    #[test]
    fn the_server_is_cut_last() {
        let (c, s) = ("127.0.0.1:51564", "127.0.0.1:8765");
        assert_eq!(endpoints(c, s, 40), "127.0.0.1:51564 → 127.0.0.1:8765");
        assert_eq!(endpoints(c, s, 24), "127.0.… → 127.0.0.1:8765");
        assert_eq!(endpoints(c, s, 19), "1… → 127.0.0.1:8765");
        assert_eq!(endpoints(c, s, 12), "127.0.0.1:5…");
    }
}
