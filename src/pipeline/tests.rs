use std::io;
use std::path::PathBuf;

use super::*;
use crate::event::{AnomalyKind, Event, EventKind};
use crate::sink::Sink;

fn capture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(rel)
}

/// Everything a run tells its sink, in order.
#[derive(Default)]
struct Record {
    calls: Vec<String>,
    events: Vec<Event>,
    summary: Option<Summary>,
    /// Fail with this after so many events.
    fail_after: Option<(usize, io::ErrorKind)>,
}

impl Sink for Record {
    fn begin(&mut self, begin: &Begin<'_>) -> io::Result<()> {
        self.calls.push(format!("begin {:?}", begin.inputs));
        Ok(())
    }
    fn event(&mut self, event: &Event) -> io::Result<()> {
        if let Some((n, kind)) = self.fail_after
            && self.events.len() == n
        {
            return Err(kind.into());
        }
        self.events.push(event.clone());
        Ok(())
    }
    fn finish(&mut self, finish: &Finish<'_>) -> io::Result<()> {
        self.calls.push("finish".into());
        self.summary = finish.summary.cloned();
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.calls.last().is_none_or(|c| c != "flush") {
            self.calls.push("flush".into());
        }
        Ok(())
    }
}

/// What a driver is told.
#[derive(Default)]
struct Told {
    failures: Vec<String>,
    progress: Vec<Progress>,
    stop_after: Option<usize>,
    asked: usize,
}

impl Watch for Told {
    fn progress(&mut self, progress: &Progress) {
        self.progress.push(*progress);
    }
    fn failure(&mut self, failure: &Failure) {
        self.failures.push(failure.to_string());
    }
    fn stop(&mut self) -> bool {
        self.asked += 1;
        self.stop_after.is_some_and(|n| self.asked > n)
    }
}

fn conns(events: &[Event]) -> Vec<u64> {
    events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Open(_)))
        .filter_map(|e| e.conn.map(|c| c.id))
        .collect()
}

#[test]
fn a_run_begins_takes_every_event_finishes_and_flushes() {
    for threads in [1, 2] {
        let options = Options {
            threads,
            summary: true,
            ..Options::default()
        };
        let mut sink = Record::default();
        let mut told = Told::default();
        let path = capture("py_basic_echo.pcap");
        let report =
            Pipeline::new(options).run(vec![Input::Path(path.clone())], &mut sink, &mut told);
        assert_eq!(report.exit_code(), EXIT_OK);
        let name = path.display().to_string();
        // A flush when the file's last read came up short, then the end.
        assert_eq!(
            sink.calls,
            [
                format!("begin [{name:?}]"),
                "flush".into(),
                "finish".into(),
                "flush".into()
            ]
        );
        assert_eq!(sink.events.len(), 40);
        assert_eq!(conns(&sink.events), [1, 2]);
        let summary = sink.summary.expect("totals were asked for");
        assert_eq!(summary.conns.len(), 2);
        assert_eq!(summary.conns[&1].messages, [15, 15]);
        assert!(told.failures.is_empty());
        let last = told.progress.last().copied().expect("progress at the end");
        assert!(last.done);
        assert_eq!(last.size, Some(std::fs::metadata(&path).unwrap().len()));
        assert_eq!(last.offset, last.size.unwrap());
    }
}

/// A bad input among good ones is reported and skipped; numbering goes on over the inputs.
#[test]
fn a_bad_input_is_reported_and_the_others_are_read() {
    for threads in [1, 3] {
        let good = capture("py_basic_echo.pcap");
        let inputs = vec![
            Input::Path(good.clone()),
            Input::Path("/nonexistent/wsnoop.pcap".into()),
            Input::Path(good.clone()),
        ];
        let mut sink = Record::default();
        let mut told = Told::default();
        let options = Options {
            threads,
            ..Options::default()
        };
        let report = Pipeline::new(options).run(inputs, &mut sink, &mut told);
        assert_eq!(report.exit_code(), EXIT_INPUT);
        assert!(report.input_failed && report.output_error.is_none());
        assert_eq!(told.failures, ["/nonexistent/wsnoop.pcap: no such file"]);
        assert_eq!(conns(&sink.events), [1, 2, 3, 4]);
    }
}

/// A corrupt record ends its input: reported to the driver and, as an anomaly about the
/// input, in the output, before the connections are finished.
#[test]
fn a_corrupt_capture_is_reported_in_the_output_too() {
    for threads in [1, 2] {
        let path = capture("adversarial/corrupt_record.pcap");
        let mut sink = Record::default();
        let mut told = Told::default();
        let options = Options {
            threads,
            ..Options::default()
        };
        let report =
            Pipeline::new(options).run(vec![Input::Path(path.clone())], &mut sink, &mut told);
        assert_eq!(report.exit_code(), EXIT_INPUT);
        let want = format!(
            "{}: corrupt capture at byte 353709: record #36 claims 4294967280 bytes, over the \
             16777216-byte record limit",
            path.display()
        );
        assert_eq!(told.failures, std::slice::from_ref(&want));
        let n = sink.events.len();
        let EventKind::Anomaly { anomaly, .. } = &sink.events[n - 2].kind else {
            panic!("{:?}", sink.events[n - 2]);
        };
        assert_eq!(
            (anomaly.kind, &anomaly.detail),
            (AnomalyKind::CorruptCapture, &want)
        );
        assert!(sink.events[n - 2].conn.is_none());
        assert!(matches!(sink.events[n - 1].kind, EventKind::End { .. }));
    }
}

/// An output error stops the run and sets the exit code; a closed pipe is a normal end, not
/// reported.
#[test]
fn an_output_error_stops_the_run() {
    for threads in [1, 2] {
        for (kind, code, reported) in [
            (io::ErrorKind::StorageFull, EXIT_INPUT, 1),
            (io::ErrorKind::BrokenPipe, EXIT_OK, 0),
        ] {
            let mut sink = Record {
                fail_after: Some((5, kind)),
                ..Record::default()
            };
            let mut told = Told::default();
            let good = capture("py_basic_echo.pcap");
            let inputs = vec![Input::Path(good.clone()), Input::Path(good)];
            let options = Options {
                threads,
                ..Options::default()
            };
            let report = Pipeline::new(options).run(inputs, &mut sink, &mut told);
            assert_eq!(report.exit_code(), code);
            assert_eq!(report.output_error.map(|e| e.kind()), Some(kind));
            assert_eq!(told.failures.len(), reported, "{:?}", told.failures);
            assert_eq!(sink.events.len(), 5);
            assert!(!sink.calls.contains(&"finish".to_string()));
        }
    }
}

/// A driver's stop ends a file's run as its end would: what was open is finished. A file's
/// run asks every 64 packets.
#[test]
fn a_stop_ends_the_input_early() {
    let mut sink = Record::default();
    let mut told = Told {
        stop_after: Some(1),
        ..Told::default()
    };
    let path = capture("py_concurrent_clients.pcap");
    let report =
        Pipeline::new(Options::default()).run(vec![Input::Path(path)], &mut sink, &mut told);
    assert_eq!(report.exit_code(), EXIT_OK);
    assert_eq!(told.asked, 2);
    // The first 64 packets (of 204): five connections open, 26 messages, all ended at once.
    let count = |what: fn(&EventKind) -> bool| sink.events.iter().filter(|e| what(&e.kind)).count();
    assert_eq!(sink.events.len(), 36);
    assert_eq!(count(|k| matches!(k, EventKind::Open(_))), 5);
    assert_eq!(count(|k| matches!(k, EventKind::Message { .. })), 26);
    assert_eq!(
        count(|k| matches!(
            k,
            EventKind::End {
                how: crate::event::EndHow::Eof,
                ..
            }
        )),
        5
    );
}

/// Connections idle for longer than the timeout end by the packet clock.
#[test]
fn idle_connections_end_by_the_packet_clock() {
    let path = capture("py_concurrent_clients.pcap");
    let run = |idle: Option<std::time::Duration>| {
        let mut sink = Record::default();
        let options = Options {
            idle_timeout: idle,
            ..Options::default()
        };
        Pipeline::new(options).run(vec![Input::Path(path.clone())], &mut sink, &mut ());
        sink.events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::End { how, .. } => Some(how),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let never = run(None);
    assert!(!never.is_empty());
    assert!(!never.contains(&crate::event::EndHow::Idle));
    // A nanosecond: every connection is idle by the next sweep, which comes within the first
    // packets (one a second by the wall clock, and the first at once).
    let at_once = run(Some(std::time::Duration::from_nanos(1)));
    assert!(at_once.contains(&crate::event::EndHow::Idle), "{at_once:?}");
}
