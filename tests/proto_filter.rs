//! The filter's application-protocol terms through the binary, on the real captures of
//! `captures/subproto/`: the units `read --filter` selects are exactly those of the peers'
//! own logs (`NAME.proto.jsonl`) that the term names, and no raw message comes with them.

mod common;

use common::{captures_dir, parse_lines, wsnoop_read};
use serde_json::Value;

fn truth(name: &str) -> Vec<Value> {
    let path = captures_dir().join("subproto").join(name);
    std::fs::read_to_string(path)
        .expect("ground truth")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect()
}

/// The selected lines of `read --json --filter FILTER`, by event kind.
fn selected(pcap: &str, filter: &str) -> Vec<Value> {
    let out = wsnoop_read(
        &captures_dir().join("subproto").join(pcap),
        &["--filter", filter],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_lines(&out.stdout)
}

fn of_event<'a>(lines: &'a [Value], event: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["event"] == event).collect()
}

/// `plant/+/temperature` as a subscriber sees it, written out by hand: three levels, the
/// first `plant`, the last `temperature`.
fn plant_temperature(topic: &str) -> bool {
    let levels: Vec<&str> = topic.split('/').collect();
    levels.len() == 3 && levels[0] == "plant" && levels[2] == "temperature"
}

#[test]
fn topic_selects_the_publishes_and_subscriptions_the_broker_would_route() {
    let lines = selected("mqtt311_mosquitto_paho.pcap", "topic:plant/+/temperature");
    assert!(of_event(&lines, "message").is_empty());
    let units = of_event(&lines, "proto");
    let want_publish = truth("mqtt311_mosquitto_paho.proto.jsonl")
        .iter()
        .filter(|u| u["packet"] == "PUBLISH")
        .filter(|u| u["topic"].as_str().is_some_and(plant_temperature))
        .count();
    assert_eq!(want_publish, 13);
    let got_publish: Vec<&str> = units
        .iter()
        .filter(|u| u["type"] == "PUBLISH")
        .map(|u| u["topic"].as_str().expect("topic"))
        .collect();
    assert_eq!(got_publish.len(), want_publish);
    assert!(got_publish.iter().all(|t| plant_temperature(t)));
    // The one SUBSCRIBE naming that filter (not the one to plant/#).
    let subs: Vec<&&Value> = units.iter().filter(|u| u["type"] == "SUBSCRIBE").collect();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0]["subscriptions"][0]["topic"], "plant/+/temperature");
    assert_eq!(units.len(), 14);
}

#[test]
fn method_selects_requests_and_the_responses_that_answer_them() {
    let lines = selected("jsonrpc_node.pcap", "method:db.query");
    let units = of_event(&lines, "proto");
    let truth = truth("jsonrpc_node.proto.jsonl");
    let requests: Vec<&Value> = truth.iter().filter(|u| u["method"] == "db.query").collect();
    assert!(!requests.is_empty());
    let got_requests: Vec<&&Value> = units.iter().filter(|u| u["type"] == "request").collect();
    assert_eq!(got_requests.len(), requests.len());
    for (got, want) in got_requests.iter().zip(&requests) {
        assert_eq!(got["id"], want["id"]);
        assert_eq!(got["params"], want["params"]);
    }
    // Each response names the method it answers and its request's time.
    let responses: Vec<&&Value> = units
        .iter()
        .filter(|u| u["type"] == "response" || u["type"] == "error")
        .collect();
    assert_eq!(responses.len(), requests.len());
    for r in &responses {
        assert_eq!(r["method_answered"], "db.query");
        let asked = got_requests
            .iter()
            .find(|q| q["id"] == r["id"])
            .expect("request");
        assert_eq!(r["reply_to"], asked["ts"]);
    }
}

#[test]
fn latency_selects_the_replies_slower_than_the_bound() {
    let all = selected("jsonrpc_node.pcap", "proto:jsonrpc");
    let replies: Vec<u64> = of_event(&all, "proto")
        .iter()
        .filter_map(|u| u["latency_us"].as_u64())
        .collect();
    assert!(replies.iter().any(|&l| l > 100_000) && replies.iter().any(|&l| l <= 100_000));
    let slow = selected("jsonrpc_node.pcap", "latency>100ms");
    let got: Vec<u64> = of_event(&slow, "proto")
        .iter()
        .map(|u| u["latency_us"].as_u64().expect("latency"))
        .collect();
    let want: Vec<u64> = replies.into_iter().filter(|&l| l > 100_000).collect();
    assert_eq!(got, want);
}

#[test]
fn type_and_proto_combine_with_the_other_terms() {
    let lines = selected(
        "stomp_rabbitmq_stompjs.pcap",
        "proto:stomp and type:SEND and dir:c2s",
    );
    let units = of_event(&lines, "proto");
    let want = truth("stomp_rabbitmq_stompjs.proto.jsonl")
        .iter()
        .filter(|u| u["command"] == "SEND" && u["dir"] == "c2s")
        .count();
    assert!(want > 0);
    assert_eq!(units.len(), want);
    assert!(
        units
            .iter()
            .all(|u| u["type"] == "SEND" && u["dir"] == "c2s")
    );
}

/// `unanswered` in `read` selects the `end` of each connection that left requests without
/// their reply, and the text line names them: in the STOMP capture each of the three
/// connections ends with a DISCONNECT whose receipt never came (the broker closed first).
#[test]
fn unanswered_selects_the_ends_that_name_their_unanswered_requests() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsnoop"))
        .args(["read", "--filter", "unanswered"])
        .arg(captures_dir().join("subproto/stomp_rabbitmq_stompjs.pcap"))
        .output()
        .expect("run wsnoop");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let ends: Vec<&str> = text.lines().filter(|l| l.contains("  end (")).collect();
    assert_eq!(ends.len(), 3, "{text}");
    for end in &ends {
        assert!(
            end.ends_with(", close clean, 1 unanswered: stomp c2s DISCONNECT receipt close-0"),
            "{end}"
        );
    }
    // Only the opens and ends: no message, no unit is selected by `unanswered` in `read`.
    assert_eq!(text.lines().count(), 6, "{text}");
    let json = selected("stomp_rabbitmq_stompjs.pcap", "unanswered");
    let ends: Vec<&Value> = of_event(&json, "end");
    assert_eq!(ends.len(), 3);
    for end in ends {
        let u = &end["unanswered"];
        assert_eq!(u.as_array().map(Vec::len), Some(1), "{end}");
        assert_eq!(u[0]["type"], "DISCONNECT");
    }
}
