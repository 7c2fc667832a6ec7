//! The terminal side: raw mode, alternate screen, mouse; the event loop; restoring the
//! terminal on exit, on error and on panic (Ctrl-C arrives as a key in raw mode).

use std::io::{self, Write};
use std::time::{Duration, Instant};

use std::sync::mpsc::{Receiver, TryRecvError};

use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;

use super::loader::{self, Source};
use super::model::{DEFAULT_KEEP_PAYLOAD, Model};
use super::state::{App, Feed};
use super::{export, view};
use crate::filter::Filter;
use crate::limits::Limits;
use crate::pipeline::{EXIT_INPUT, EXIT_OK, EXIT_USAGE, NO_LIVE, say};

/// Time spent taking in events per frame, so keys stay responsive while a file loads.
const INGEST_BUDGET: Duration = Duration::from_millis(25);
/// Redraw interval while loading.
const LOADING_TICK: Duration = Duration::from_millis(50);
const IDLE_TICK: Duration = Duration::from_millis(500);

/// What `wsnoop tui` was asked for.
#[derive(Clone, Debug)]
pub struct Config {
    pub source: Source,
    pub limits: Limits,
    /// TLS key logs (followed as they grow on a live interface).
    pub keylogs: Vec<std::path::PathBuf>,
    pub proto: crate::proto::ProtoChoice,
    /// Payload bytes the UI keeps in full ([`DEFAULT_KEEP_PAYLOAD`] when `None`).
    pub keep_payload: Option<u64>,
    /// Start with this filter applied.
    pub filter: Option<Filter>,
}

/// Runs the terminal UI; returns the process exit code (see [`crate::pipeline::Report`]).
pub fn main(config: Config) -> i32 {
    if cfg!(not(feature = "live")) && matches!(config.source, Source::Interface { .. }) {
        say(NO_LIVE);
        return EXIT_USAGE;
    }
    let short = config.source.short_name();
    let decoding = crate::pipeline::Options {
        limits: config.limits,
        keylogs: config.keylogs,
        proto: config.proto,
        ..crate::pipeline::Options::default()
    };
    let (rx, _loader) = match loader::spawn(&config.source, decoding) {
        Ok(x) => x,
        Err(e) => {
            say(&e);
            return EXIT_INPUT;
        }
    };
    let filter = config.filter;
    let mut app = App::new(
        Model::new(config.keep_payload.unwrap_or(DEFAULT_KEEP_PAYLOAD)),
        short,
    );
    if let Some(f) = filter {
        app.set_filter(f);
    }
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            say(&format!("cannot use the terminal: {e}"));
            return EXIT_INPUT;
        }
    };
    let _ = execute!(io::stdout(), EnableMouseCapture);
    let hook = std::panic::take_hook();
    let ui = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        // Panics of the loader's threads are caught and shown in the status bar; printing
        // them here would scribble over the screen.
        if std::thread::current().id() != ui {
            return;
        }
        let _ = execute!(io::stdout(), DisableMouseCapture);
        hook(info);
    }));
    let result = run(&mut terminal, &mut app, &rx);
    let _ = execute!(io::stdout(), DisableMouseCapture);
    ratatui::restore();
    let _ = io::stdout().flush();
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            say(&format!("terminal error: {e}"));
            EXIT_INPUT
        }
    }
}

fn run(terminal: &mut DefaultTerminal, app: &mut App, rx: &Receiver<Feed>) -> io::Result<()> {
    let mut dirty = true;
    let mut connected = true;
    while !app.quit {
        // The budget ran out with more waiting.
        let mut more = false;
        if connected {
            let start = Instant::now();
            loop {
                if start.elapsed() >= INGEST_BUDGET {
                    more = true;
                    break;
                }
                match rx.try_recv() {
                    Ok(feed) => {
                        app.feed(feed);
                        dirty = true;
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        connected = false;
                        if app.model.loading() {
                            app.model.done = Some(Some("the loader stopped".into()));
                        }
                        dirty = true;
                        break;
                    }
                }
            }
        }
        let busy = app.model.loading() || app.scanning().is_some();
        app.tick();
        if dirty || busy {
            terminal.draw(|f| view::draw(f, app))?;
            dirty = false;
        }
        let wait = if more || app.scanning().is_some() {
            // More events (or rows to filter) are waiting: look at the keyboard, then go on.
            Duration::from_millis(1)
        } else if busy {
            LOADING_TICK
        } else {
            IDLE_TICK
        };
        if event::poll(wait)? {
            // Take every pending input before drawing again (fast scrolling stays smooth).
            loop {
                match event::read()? {
                    Event::Key(k) if k.kind == event::KeyEventKind::Press => {
                        if let Some(effect) = app.key(k) {
                            export::run(app, effect);
                        }
                    }
                    Event::Mouse(m) => app.mouse(m),
                    _ => {}
                }
                dirty = true;
                if app.quit || !event::poll(Duration::ZERO)? {
                    break;
                }
            }
        }
    }
    Ok(())
}
