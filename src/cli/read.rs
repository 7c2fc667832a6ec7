//! `wsnoop read`: capture files through the pipeline into a line output.

use super::args::{OutputFormat, ReadArgs};
use super::format::FormatSink;
use super::output::LineOutput;
use super::parse_filter;
use super::report::{Stderr, say};
use crate::pipeline::{EXIT_INPUT, EXIT_USAGE, Input, Options, Pipeline, default_threads};

pub fn run(args: &ReadArgs) -> i32 {
    let choice = args.format.choice();
    if choice.format == OutputFormat::Har && args.summary {
        say("--summary writes lines: it does not go into a HAR document (--format har)");
        return EXIT_USAGE;
    }
    let filter = match parse_filter(args.filter.as_deref()) {
        Ok(filter) => filter,
        Err(code) => return code,
    };
    let mut out = match &args.output {
        // `-o -`: standard output, as without -o.
        Some(path) if path.as_os_str() == "-" => LineOutput::stdout(),
        Some(path) => match LineOutput::create(path) {
            Ok(out) => out,
            Err(msg) => {
                say(&msg);
                return EXIT_INPUT;
            }
        },
        None => LineOutput::stdout(),
    };
    let mut watch = Stderr::new(out.name(), !args.no_progress);
    let pipeline = Pipeline::new(Options {
        limits: args.limits.to_limits(),
        threads: args.threads.map_or_else(default_threads, usize::from),
        filter,
        summary: args.summary,
        keylogs: args.decode.keylogs(),
        proto: args.decode.proto(),
        proto_only: args.proto_only,
        ..Options::default()
    });
    let inputs = args.files.iter().cloned().map(Input::Path).collect();
    let mut sink = FormatSink::lines_into(&choice, &mut out).time_format(args.format.time.get());
    pipeline.run(inputs, &mut sink, &mut watch).exit_code()
}
