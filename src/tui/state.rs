//! The UI state and its updates: events in, keys in → state. Pure (no terminal, no files):
//! what needs the outside world comes back as an [`Effect`] for the run loop.

use std::path::PathBuf;

use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::keys::{self, Action};
use super::model::{Conn, Model, Progress, Row, RowKind};
use crate::event::{ConnId, Event, Transport};
use crate::filter::{Filter, Item, Subject};

/// Rows examined at a time when (re)building the filtered list; a tick goes on for at most
/// [`SCAN_TIME`], so a new filter over millions of messages never freezes the screen.
const SCAN_BUDGET: usize = 16_384;
const SCAN_TIME: std::time::Duration = std::time::Duration::from_millis(30);
/// While events arrive, the connections list is sorted again at most this often when its
/// order depends on changing figures (messages, bytes, state, anomalies): sorting many
/// connections on every batch would cost more than the batches.
const RESORT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// The column the connections list is sorted by (`s` cycles, `S` reverses). Ties keep
/// connection number order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    #[default]
    Id,
    /// Client, then server address, then HTTP/2 stream.
    Endpoints,
    Uri,
    /// Messages both ways.
    Messages,
    /// Payload bytes both ways.
    Bytes,
    /// The state as listed (`open`, `fin`, `rst`, ...), alphabetically.
    State,
    Anomalies,
}

impl SortKey {
    pub const ALL: [SortKey; 7] = [
        SortKey::Id,
        SortKey::Endpoints,
        SortKey::Uri,
        SortKey::Messages,
        SortKey::Bytes,
        SortKey::State,
        SortKey::Anomalies,
    ];

    pub fn next(self) -> SortKey {
        let at = SortKey::ALL.iter().position(|k| *k == self).unwrap_or(0);
        SortKey::ALL
            .get((at + 1) % SortKey::ALL.len())
            .copied()
            .unwrap_or_default()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Id => "#",
            SortKey::Endpoints => "endpoints",
            SortKey::Uri => "uri",
            SortKey::Messages => "messages",
            SortKey::Bytes => "bytes",
            SortKey::State => "state",
            SortKey::Anomalies => "anomalies",
        }
    }

    /// Whether the key only depends on what a connection's open fixes (no re-sorting as
    /// its figures change).
    fn fixed(self) -> bool {
        matches!(self, SortKey::Id | SortKey::Endpoints | SortKey::Uri)
    }

    fn cmp(self, a: &Conn, b: &Conn) -> std::cmp::Ordering {
        let by = match self {
            SortKey::Id => std::cmp::Ordering::Equal,
            SortKey::Endpoints => {
                (a.client, a.server, a.stream).cmp(&(b.client, b.server, b.stream))
            }
            SortKey::Uri => a.info.uri.cmp(&b.info.uri),
            SortKey::Messages => (a.msgs[0] + a.msgs[1]).cmp(&(b.msgs[0] + b.msgs[1])),
            SortKey::Bytes => (a.bytes[0] + a.bytes[1]).cmp(&(b.bytes[0] + b.bytes[1])),
            SortKey::State => state_name(a).cmp(state_name(b)),
            SortKey::Anomalies => a.anomalies.cmp(&b.anomalies),
        };
        by.then(a.id.cmp(&b.id))
    }
}

/// A connection's state as the list shows it.
pub fn state_name(c: &Conn) -> &'static str {
    c.end.map_or("open", |how| how.as_str())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Conns,
    Msgs,
    Detail,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Prompt {
    /// Editing the filter; `prev` is restored on Esc.
    Filter {
        prev: String,
    },
    Export {
        conn: ConnId,
    },
    Save {
        row: u32,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    pub prompt: Prompt,
    pub text: String,
}

/// Work for the run loop (file writes, the terminal's clipboard).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Export {
        conn: ConnId,
        path: PathBuf,
    },
    Save {
        row: u32,
        path: PathBuf,
    },
    /// Put `text` on the clipboard (OSC 52); `notice` says so once it is written.
    Copy {
        text: Vec<u8>,
        notice: String,
    },
}

/// Where the panes were drawn last (inner areas of the lists), for the mouse and page sizes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub conns: Rect,
    pub msgs: Rect,
    pub detail: Rect,
}

/// What the loader sends the UI.
#[derive(Debug)]
pub enum Feed {
    /// Events in capture order, connection numbers final.
    Events(Vec<Event>),
    Progress(Progress),
    /// Loading ended: `None` at the end of the input, else why it stopped (the events before
    /// that were sent).
    Done(Option<String>),
}

pub struct App {
    pub model: Model,
    /// File name for the status bar.
    pub source: String,
    pub focus: Pane,
    /// 0 is "all connections", `i` is `model.conns[i - 1]`.
    pub conn_sel: usize,
    pub conn_offset: usize,
    /// The connections list in display order: indices into `model.conns`.
    pub order: Vec<usize>,
    pub sort: SortKey,
    pub sort_desc: bool,
    /// `model.version` when `order` was last sorted, and when (for [`RESORT_EVERY`]).
    sorted_at: (u64, Option<std::time::Instant>),
    /// `order` is not (or may no longer be) in `sort` order.
    unsorted: bool,
    /// The connection page on screen (`i`), and its scroll position.
    pub page: Option<ConnId>,
    pub page_scroll: usize,
    /// Lines of the page, and the lines it had room for, at its last drawing (bound
    /// scrolling).
    pub page_len: usize,
    pub page_height: usize,
    /// Rows (indices into `model.rows`) the messages pane lists.
    pub view: Vec<u32>,
    /// Anomalies among `view` (titles count them apart from messages).
    pub view_anomalies: usize,
    /// Refused upgrades among `view` (counted apart too).
    pub view_refused: usize,
    /// Entries of the current source examined so far.
    scanned: usize,
    /// Row to select again once a rebuild reaches it.
    target: Option<u32>,
    pub msg_sel: usize,
    pub msg_offset: usize,
    /// Keep the last message selected as new ones arrive.
    pub follow: bool,
    pub detail_scroll: usize,
    /// Lines of the detail pane at its last drawing (bounds scrolling).
    pub detail_len: usize,
    pub filter: Filter,
    pub filter_error: Option<String>,
    /// The filter marks matches instead of hiding the rest.
    pub mark_only: bool,
    pub input: Option<Input>,
    pub time_abs: bool,
    pub chart_bytes: bool,
    pub help: bool,
    /// A one-line message for the status line, and whether it is an error.
    pub notice: Option<(String, bool)>,
    pub areas: Areas,
    pub quit: bool,
    /// Detail lines of (row, width), so a large message is laid out once.
    pub detail_cache: Option<(u32, u16, Vec<Line<'static>>)>,
    pub chart_cache: Option<super::traffic::Cache>,
}

impl App {
    pub fn new(model: Model, source: impl Into<String>) -> App {
        App {
            model,
            source: source.into(),
            focus: Pane::Msgs,
            conn_sel: 0,
            conn_offset: 0,
            order: Vec::new(),
            sort: SortKey::Id,
            sort_desc: false,
            sorted_at: (0, None),
            unsorted: false,
            page: None,
            page_scroll: 0,
            page_len: 0,
            page_height: 0,
            view: Vec::new(),
            view_anomalies: 0,
            view_refused: 0,
            scanned: 0,
            target: None,
            msg_sel: 0,
            msg_offset: 0,
            follow: false,
            detail_scroll: 0,
            detail_len: 0,
            filter: Filter::default(),
            filter_error: None,
            mark_only: false,
            input: None,
            time_abs: false,
            chart_bytes: false,
            help: false,
            notice: None,
            areas: Areas::default(),
            quit: false,
            detail_cache: None,
            chart_cache: None,
        }
    }

    pub fn set_filter(&mut self, filter: Filter) {
        self.filter = filter;
        self.filter_error = None;
        // The detail pane marks the filter's matches: its cached lines are stale.
        self.detail_cache = None;
        self.rebuild();
    }

    pub fn push_events(&mut self, events: impl IntoIterator<Item = Event>) {
        let shown = self.detail_cache.as_ref().map(|(ix, _, _)| *ix);
        for ev in events {
            if shown.is_some_and(|ix| super::units::may_change_detail(&self.model, ix, &ev)) {
                self.detail_cache = None;
            }
            self.model.push(ev);
        }
        self.sync_order(false);
    }

    /// Brings `order` up to date with the model: new connections are placed, and the list
    /// re-sorted when figures it is sorted by have changed (at most every [`RESORT_EVERY`]
    /// unless `now`). The selected connection stays selected wherever it moves.
    fn sync_order(&mut self, now: bool) {
        let conns = &self.model.conns;
        let listed = self.order.len();
        if listed < conns.len() {
            // Connections are numbered as they open, so listed by number a new one usually
            // goes last; anything else waits (listed last meanwhile) for the next sort.
            let last_id = self.order.last().and_then(|&i| conns.get(i)).map(|c| c.id);
            let in_place = self.sort == SortKey::Id
                && !self.sort_desc
                && conns
                    .get(listed..)
                    .unwrap_or_default()
                    .iter()
                    .try_fold(last_id, |prev, c| {
                        (prev.is_none_or(|p| p < c.id)).then_some(Some(c.id))
                    })
                    .is_some();
            self.order.extend(listed..conns.len());
            self.unsorted |= !in_place;
        }
        self.unsorted |= !self.sort.fixed() && self.sorted_at.0 != self.model.version;
        let due = self.sorted_at.1.is_none_or(|t| t.elapsed() >= RESORT_EVERY);
        if self.unsorted && (now || due) {
            self.resort();
        }
    }

    fn resort(&mut self) {
        let selected = self.selected_conn();
        let conns = &self.model.conns;
        let (key, desc) = (self.sort, self.sort_desc);
        self.order = (0..conns.len()).collect();
        self.order
            .sort_by(|&a, &b| match (conns.get(a), conns.get(b)) {
                (Some(a), Some(b)) if desc => key.cmp(b, a),
                (Some(a), Some(b)) => key.cmp(a, b),
                _ => a.cmp(&b),
            });
        self.sorted_at = (self.model.version, Some(std::time::Instant::now()));
        self.unsorted = false;
        if let Some(id) = selected {
            let at = self
                .order
                .iter()
                .position(|&i| conns.get(i).is_some_and(|c| c.id == id));
            if let Some(at) = at {
                self.conn_sel = at + 1;
            }
        }
    }

    /// `s` / `S`: the next sort column, or the other direction.
    fn sort_by(&mut self, key: SortKey, desc: bool) {
        self.sort = key;
        self.sort_desc = desc;
        self.resort();
        self.notice = Some((
            format!(
                "connections sorted by {} {}",
                key.as_str(),
                if desc { "▼" } else { "▲" }
            ),
            false,
        ));
    }

    /// The index into `model.conns` of the connection listed at `pos` (0 is "all").
    pub fn conn_at(&self, pos: usize) -> Option<usize> {
        pos.checked_sub(1).and_then(|p| self.order.get(p)).copied()
    }

    /// The selected connection's index into `model.conns` (`None`: all connections).
    pub fn selected_conn_ix(&self) -> Option<usize> {
        self.conn_at(self.conn_sel)
    }

    pub fn feed(&mut self, feed: Feed) {
        match feed {
            Feed::Events(events) => self.push_events(events),
            Feed::Progress(progress) => self.model.progress = progress,
            Feed::Done(error) => self.model.done = Some(error),
        }
    }

    /// Brings the filtered list up to date, a bounded amount of work at a time.
    pub fn tick(&mut self) {
        self.sync_order(false);
        // Without a filter to evaluate, listing is only copying indices: no need to spread it.
        if self.mark_only || self.filter.is_empty() {
            self.scan(usize::MAX);
            return;
        }
        let start = std::time::Instant::now();
        self.scan(SCAN_BUDGET);
        while self.scanned < self.source_len() && start.elapsed() < SCAN_TIME {
            self.scan(SCAN_BUDGET);
        }
    }

    /// Brings the filtered list and the connections' order fully up to date (tests,
    /// benchmarks).
    pub fn settle(&mut self) {
        self.sync_order(true);
        self.scan(usize::MAX);
    }

    /// The list is still being rebuilt (fraction done, for the status bar).
    pub fn scanning(&self) -> Option<f64> {
        let len = self.source_len();
        (self.scanned < len && len > SCAN_BUDGET).then(|| self.scanned as f64 / len as f64)
    }

    pub fn selected_row(&self) -> Option<u32> {
        self.view.get(self.msg_sel).copied()
    }

    pub fn row(&self, ix: u32) -> Option<&Row> {
        self.model.rows.get(ix as usize)
    }

    /// The connection whose messages are listed, or `None` for all.
    pub fn selected_conn(&self) -> Option<ConnId> {
        self.selected_conn_ix()
            .and_then(|i| self.model.conns.get(i))
            .map(|c| c.id)
    }

    pub fn row_matches(&self, row: &Row) -> bool {
        super::units::row_matches(&self.filter, row, self.row_conn(row))
    }

    /// The connection a row belongs to, for the filter's connection terms.
    fn row_conn(&self, row: &Row) -> Option<&Conn> {
        row.conn.and_then(|id| self.model.conn(id))
    }

    fn source_len(&self) -> usize {
        match self.selected_conn_ix() {
            None => self.model.rows.len(),
            Some(i) => self.model.conns.get(i).map_or(0, |c| c.rows.len()),
        }
    }

    fn scan(&mut self, budget: usize) {
        let conn = self
            .selected_conn_ix()
            .and_then(|i| self.model.conns.get(i));
        let len = conn.map_or(self.model.rows.len(), |c| c.rows.len());
        let end = len.min(self.scanned.saturating_add(budget));
        for i in self.scanned..end {
            let ix = match conn {
                None => i as u32,
                Some(c) => match c.rows.get(i) {
                    Some(&ix) => ix,
                    None => break,
                },
            };
            let row = self.model.rows.get(ix as usize);
            let keep = self.mark_only
                || self.filter.is_empty()
                || row.is_some_and(|r| self.row_matches(r));
            if keep {
                self.view.push(ix);
                match row.map(|r| &r.kind) {
                    Some(RowKind::Anomaly(_)) => self.view_anomalies += 1,
                    Some(RowKind::Refused(_)) => self.view_refused += 1,
                    _ => {}
                }
                if self.target == Some(ix) {
                    self.msg_sel = self.view.len() - 1;
                    self.target = None;
                }
            }
        }
        self.scanned = end;
        if self.follow {
            self.msg_sel = self.view.len().saturating_sub(1);
        }
    }

    /// Starts the list over (new filter, mode or connection), keeping the selected message
    /// selected when it is still listed.
    fn rebuild(&mut self) {
        self.target = if self.follow {
            None
        } else {
            self.selected_row()
        };
        self.view.clear();
        self.view_anomalies = 0;
        self.view_refused = 0;
        self.scanned = 0;
        self.msg_sel = 0;
        self.msg_offset = 0;
        self.detail_scroll = 0;
    }

    pub fn key(&mut self, key: KeyEvent) -> Option<Effect> {
        self.notice = None;
        if keys::is_interrupt(key) {
            self.quit = true;
            return None;
        }
        if self.help {
            self.help = false;
            return None;
        }
        if self.input.is_some() {
            return self.input_key(key);
        }
        keys::action(key).and_then(|a| self.act(a))
    }

    pub fn act(&mut self, a: Action) -> Option<Effect> {
        if self.page.is_some() {
            return self.page_act(a);
        }
        match a {
            Action::Quit => self.quit = true,
            Action::Help => self.help = true,
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::PageUp => self.move_by(-self.page()),
            Action::PageDown => self.move_by(self.page()),
            Action::Top => self.move_by(isize::MIN),
            Action::Bottom => self.move_by(isize::MAX),
            Action::NextPane | Action::PrevPane => {
                let order = [Pane::Conns, Pane::Msgs, Pane::Detail];
                let at = order.iter().position(|p| *p == self.focus).unwrap_or(1);
                let step = if a == Action::NextPane { 1 } else { 2 };
                self.focus = order.get((at + step) % 3).copied().unwrap_or(Pane::Msgs);
            }
            Action::Enter => {
                self.focus = match self.focus {
                    Pane::Conns => Pane::Msgs,
                    Pane::Msgs | Pane::Detail => Pane::Detail,
                }
            }
            Action::Back => {
                self.focus = match self.focus {
                    Pane::Detail => Pane::Msgs,
                    Pane::Msgs | Pane::Conns => Pane::Conns,
                }
            }
            Action::Filter => {
                let text = self.filter.source().to_string();
                self.input = Some(Input {
                    prompt: Prompt::Filter { prev: text.clone() },
                    text,
                });
            }
            Action::NextMatch => self.find(true),
            Action::PrevMatch => self.find(false),
            Action::ToggleMark => {
                self.mark_only = !self.mark_only;
                self.rebuild();
            }
            Action::ToggleTime => self.time_abs = !self.time_abs,
            Action::ToggleChart => self.chart_bytes = !self.chart_bytes,
            Action::Export => self.start_export(),
            Action::Save => self.start_save(),
            Action::Copy => return self.copy(),
            Action::Info => self.open_page(),
            Action::Sort => self.sort_by(self.sort.next(), self.sort_desc),
            Action::SortReverse => self.sort_by(self.sort, !self.sort_desc),
            Action::Jump => self.jump(),
        }
        None
    }

    /// Keys on the connection page: scrolling, back, and what does not need the lists.
    fn page_act(&mut self, a: Action) -> Option<Effect> {
        let page = isize::try_from(self.page_height.max(2)).unwrap_or(2) - 1;
        let delta = match a {
            Action::Up => -1,
            Action::Down => 1,
            Action::PageUp => -page,
            Action::PageDown => page,
            Action::Top => isize::MIN,
            Action::Bottom => isize::MAX,
            Action::Back | Action::Info => {
                self.page = None;
                return None;
            }
            Action::Quit => {
                self.quit = true;
                return None;
            }
            Action::Help => {
                self.help = true;
                return None;
            }
            Action::Export => {
                // The page's connection, whatever the lists have selected.
                if let Some(conn) = self.page {
                    self.input = Some(Input {
                        prompt: Prompt::Export { conn },
                        text: format!("wsnoop-conn-{conn}.jsonl"),
                    });
                }
                return None;
            }
            _ => return None,
        };
        // Not drawn yet (keys typed ahead): the drawing bounds the position.
        let max = if self.page_len == 0 {
            usize::MAX
        } else {
            self.page_len.saturating_sub(self.page_height)
        };
        self.page_scroll = step(self.page_scroll, delta, max.saturating_add(1));
        None
    }

    /// `i`: the page of the selected connection, or of the selected message's.
    fn open_page(&mut self) {
        let conn = match self.focus {
            Pane::Conns => self.selected_conn(),
            Pane::Msgs | Pane::Detail => self.selected_conn().or_else(|| {
                self.selected_row()
                    .and_then(|ix| self.row(ix))
                    .and_then(|r| r.conn)
            }),
        };
        match conn {
            Some(id) => {
                self.page = Some(id);
                self.page_scroll = 0;
                self.page_len = 0;
            }
            None => self.notice = Some(("select a connection for its page".into(), true)),
        }
    }

    fn page(&self) -> isize {
        let rect = match self.focus {
            Pane::Conns => self.areas.conns,
            Pane::Msgs => self.areas.msgs,
            Pane::Detail => self.areas.detail,
        };
        isize::try_from(rect.height.max(2)).unwrap_or(2) - 1
    }

    fn move_by(&mut self, delta: isize) {
        match self.focus {
            Pane::Conns => {
                let new = step(self.conn_sel, delta, self.order.len() + 1);
                if new != self.conn_sel {
                    self.conn_sel = new;
                    self.follow = false;
                    self.target = None;
                    self.rebuild();
                    self.target = None;
                }
            }
            Pane::Msgs => {
                let len = self.view.len();
                let new = step(self.msg_sel, delta, len);
                if new != self.msg_sel {
                    self.detail_scroll = 0;
                }
                self.msg_sel = new;
                // At the bottom, follow what arrives; anywhere else, stay put.
                self.follow = delta > 0 && new + 1 >= len;
            }
            Pane::Detail => {
                let max = self.detail_len.saturating_sub(1);
                self.detail_scroll = step(self.detail_scroll, delta, max + 1);
            }
        }
    }

    /// Selects a connection or a message by position (mouse clicks).
    pub fn select(&mut self, pane: Pane, index: usize) {
        self.focus = pane;
        match pane {
            Pane::Conns => {
                let delta = index as isize - self.conn_sel as isize;
                self.move_by(delta);
            }
            Pane::Msgs => {
                if index < self.view.len() {
                    let delta = index as isize - self.msg_sel as isize;
                    self.move_by(delta);
                    self.follow = false;
                }
            }
            Pane::Detail => {}
        }
    }

    /// `n`/`N`: the next message matching the filter, wrapping around.
    fn find(&mut self, forward: bool) {
        if self.filter.is_empty() {
            self.notice = Some(("no filter: press / to set one".into(), true));
            return;
        }
        if self.focus == Pane::Conns {
            self.focus = Pane::Msgs;
        }
        let len = self.view.len();
        if len == 0 {
            self.notice = Some(("no matching message".into(), true));
            return;
        }
        for k in 1..=len {
            let i = if forward {
                (self.msg_sel + k) % len
            } else {
                (self.msg_sel + len - k % len) % len
            };
            let hit = self
                .view
                .get(i)
                .and_then(|&ix| self.row(ix))
                .is_some_and(|r| self.row_matches(r));
            if hit {
                if (forward && i <= self.msg_sel) || (!forward && i >= self.msg_sel) {
                    self.notice = Some(("search wrapped".into(), false));
                }
                self.msg_sel = i;
                self.follow = false;
                self.detail_scroll = 0;
                return;
            }
        }
        self.notice = Some(("no matching message".into(), true));
    }

    fn start_export(&mut self) {
        let conn = self.selected_conn().or_else(|| {
            self.selected_row()
                .and_then(|ix| self.row(ix))
                .and_then(|r| r.conn)
        });
        match conn {
            Some(conn) => {
                self.input = Some(Input {
                    prompt: Prompt::Export { conn },
                    text: format!("wsnoop-conn-{conn}.jsonl"),
                })
            }
            None => self.notice = Some(("select a connection to export".into(), true)),
        }
    }

    fn start_save(&mut self) {
        let Some(ix) = self.selected_row() else {
            self.notice = Some(("select a message to save".into(), true));
            return;
        };
        let name = match self.row(ix) {
            Some(Row {
                kind: RowKind::Message(m),
                conn,
                ..
            }) => {
                let ext = match m.opcode {
                    crate::event::Opcode::Text if super::json::pretty_ok(&m.payload) => "json",
                    crate::event::Opcode::Text => "txt",
                    _ => "bin",
                };
                format!("wsnoop-conn-{}-msg-{}.{ext}", conn.unwrap_or(0), ix + 1)
            }
            _ => {
                self.notice = Some(("an anomaly has no payload to save".into(), true));
                return;
            }
        };
        self.input = Some(Input {
            prompt: Prompt::Save { row: ix },
            text: name,
        });
    }
}

/// `cur + delta` within `0..len` (saturating at both ends).
fn step(cur: usize, delta: isize, len: usize) -> usize {
    let max = len.saturating_sub(1);
    if delta < 0 {
        cur.saturating_sub(delta.unsigned_abs()).min(max)
    } else {
        cur.saturating_add(delta.unsigned_abs()).min(max)
    }
}

/// A row as the filter sees it, with its connection's facts (`conn`: the row's connection).
pub fn subject<'a>(row: &'a Row, conn: Option<&'a Conn>) -> Subject<'a> {
    let item = match &row.kind {
        RowKind::Message(m) => Item::Message {
            opcode: m.opcode,
            len: m.len,
            payload: &m.payload,
        },
        RowKind::Anomaly(a) => Item::Anomaly {
            kind: a.kind,
            detail: &a.detail,
        },
        RowKind::Unit(u) => Item::Proto {
            unit: &u.unit,
            unanswered: u.unanswered,
        },
        RowKind::Refused(_) => Item::Refused,
    };
    let transport = match (&row.kind, conn) {
        (_, Some(c)) => Some(Transport {
            client: c.client,
            server: c.server,
            stream: c.stream,
        }),
        (RowKind::Anomaly(a), None) => a.transport,
        (RowKind::Refused(r), None) => Some(r.transport),
        (RowKind::Message(_) | RowKind::Unit(_), None) => None,
    };
    // A refused upgrade brings its own URI (it has no connection).
    let uri = match &row.kind {
        RowKind::Refused(r) => r.uri.as_deref(),
        _ => conn.and_then(|c| c.info.uri.as_deref()),
    };
    Subject {
        conn: row.conn,
        transport,
        uri,
        dir: row.dir,
        item,
    }
}

#[cfg(test)]
mod tests;
