//! The terminal side: raw mode, alternate screen, mouse; the event loop; restoring the
//! terminal on exit, on error and on panic (Ctrl-C arrives as a key in raw mode).

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};
use ratatui::DefaultTerminal;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;

use super::model::{DEFAULT_KEEP_PAYLOAD, Model};
use super::state::{App, Feed};
use super::{export, loader, view};
use crate::cli::{EXIT_INPUT, EXIT_OK, EXIT_USAGE, TuiArgs};
use crate::filter::Filter;

/// Time spent taking in events per frame, so keys stay responsive while a file loads.
const INGEST_BUDGET: Duration = Duration::from_millis(25);
/// Redraw interval while loading.
const LOADING_TICK: Duration = Duration::from_millis(50);
const IDLE_TICK: Duration = Duration::from_millis(500);

pub fn main(args: &TuiArgs) -> i32 {
    let filter = match args.filter.as_deref().map(Filter::parse).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("wsnoop: --filter: {e}");
            return EXIT_USAGE;
        }
    };
    if args.file.is_some() && args.bpf.is_some() {
        eprintln!("wsnoop: -f (a capture filter) goes with -i, not with a file");
        return EXIT_USAGE;
    }
    let source = match (&args.file, &args.interface) {
        (Some(file), _) => loader::spawn(file, args.limits.to_limits()).map(|x| {
            let name = file.display().to_string();
            let short = Path::new(file)
                .file_name()
                .map_or(name, |n| n.to_string_lossy().into_owned());
            (x, short)
        }),
        (None, Some(iface)) => {
            let bpf = args.bpf.as_deref().unwrap_or("tcp");
            super::live::spawn(iface, bpf, args.limits.to_limits()).map(|x| (x, iface.clone()))
        }
        (None, None) => Err("give a capture file or -i INTERFACE".into()),
    };
    let ((rx, _loader), short) = match source {
        Ok(x) => x,
        Err(e) => {
            let what = args.file.as_ref().map_or_else(
                || args.interface.clone().unwrap_or_default(),
                |f| f.display().to_string(),
            );
            eprintln!("wsnoop: {what}: {e}");
            return EXIT_INPUT;
        }
    };
    let mut app = App::new(
        Model::new(args.keep_payload.unwrap_or(DEFAULT_KEEP_PAYLOAD)),
        short,
    );
    if let Some(f) = filter {
        app.set_filter(f);
    }
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("wsnoop: cannot use the terminal: {e}");
            return EXIT_INPUT;
        }
    };
    let _ = execute!(io::stdout(), EnableMouseCapture);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // The loader's panics are caught and shown in the status bar; printing them here
        // would scribble over the screen.
        if std::thread::current().name() == Some(loader::LOADER_THREAD) {
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
            eprintln!("wsnoop: terminal error: {e}");
            EXIT_INPUT
        }
    }
}

fn run(terminal: &mut DefaultTerminal, app: &mut App, rx: &Receiver<Feed>) -> io::Result<()> {
    let mut dirty = true;
    let mut connected = true;
    while !app.quit {
        if connected {
            let start = Instant::now();
            while start.elapsed() < INGEST_BUDGET {
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
        let wait = if !rx.is_empty() || app.scanning().is_some() {
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
