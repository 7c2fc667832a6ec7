//! Application-protocol units in the TUI, drawn with ratatui's TestBackend at 80×24 and
//! 120×30 from the bundled captures of captures/subproto/ (MQTT 3.1.1, JSON-RPC 2.0): the list
//! with unit summaries, the detail tree of a unit, the request/reply jump, and protocol filter
//! terms; compared with the committed snapshots in tests/snapshots/.

mod tuiutil;

use tuiutil::{keys, screen};

/// `captures/subproto/NAME.pcap` in the model, as the TUI's loader reads it.
fn capture_app(name: &str) -> wsnoop::tui::App {
    tuiutil::capture_app(&format!("subproto/{name}.pcap"), None)
}

macro_rules! capture_sizes {
    ($name:ident, $capture:expr, $keys:expr) => {
        #[test]
        fn $name() {
            for (w, h) in [(80, 24), (120, 30)] {
                let mut a = capture_app($capture);
                keys(&mut a, $keys);
                insta::assert_snapshot!(
                    format!("{}_{w}x{h}", stringify!($name)),
                    screen(&mut a, w, h)
                );
            }
        }
    };
}

const MQTT: &str = "mqtt311_mosquitto_paho";
const JSONRPC: &str = "jsonrpc_node";

// The list with MQTT summaries (CONNECT, CONNACK with its latency, SUBSCRIBE, ...).
capture_sizes!(mqtt_list, MQTT, "");
// Row 7: connection 2's PUBLISH plant/sensor-7/status q1 #1, detail focused: its fields and
// the PUBACK that answered it.
capture_sizes!(mqtt_publish_detail, MQTT, "jjjjjj\n");
// Only the rows with a PUBLISH.
capture_sizes!(mqtt_filter_publish, MQTT, "/type:PUBLISH\n");
// Row 5: the response to time.now, 150.8 ms after its request: result tree and latency.
capture_sizes!(jsonrpc_response_detail, JSONRPC, "jjjj\n");
// From that response, r: its request (row 2, time.now) with "answered by".
capture_sizes!(jsonrpc_jump_to_request, JSONRPC, "jjjjr");
// And back to the reply.
capture_sizes!(jsonrpc_jump_back_to_reply, JSONRPC, "jjjjrr");
// The replies that took longer than 100 ms: #2 (150.8 ms) and #1 (402.5 ms).
capture_sizes!(jsonrpc_filter_latency, JSONRPC, "/latency>100ms\n");
// The batch of four: the first unit and +3.
capture_sizes!(jsonrpc_batch_detail, JSONRPC, "/method:user.get\n");
// Connection 4's message packing a SUBSCRIBE and two PUBLISH: the list says +2, the detail
// shows the three, the SUBSCRIBE's subscriptions as a nested tree.
capture_sizes!(mqtt_packed_units, MQTT, "\t\tjjjj\njj\n");
// STOMP: the three DISCONNECT whose receipt never came, marked unanswered.
capture_sizes!(
    stomp_unanswered,
    "stomp_rabbitmq_stompjs",
    "/unanswered\n\n"
);
