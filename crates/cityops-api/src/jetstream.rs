//! The live stream's changes through NATS JetStream, for nodes that share a database and a
//! NATS cluster: the outbox is published to a stream, in order, by the one node holding
//! [`Duty::OutboxRelay`], and every node reads the stream to feed its subscribers.
//!
//! Without NATS every node reads the outbox from the database itself ([`crate::outbox`]).
//! With it, the database is read by one node only, other nodes' changes arrive as soon as
//! they are published rather than at the next poll, and a node that starts, or reconnects
//! after NATS was away, reads on from where it stopped in the stream.
//!
//! Each message carries the change's case as the change left it, read once by the relay
//! (without the reporter: personal data stays in the database), and its outbox row's id as
//! `Nats-Msg-Id`: a relay that takes over from
//! one that died publishes again from the stream's last id, and a message published twice
//! within the stream's duplicate window is stored once. Subscribers pass over any id at or
//! below the last they handed on, so even a repeat outside that window shows once.

use async_nats::jetstream::consumer::{pull, AckPolicy, DeliverPolicy};
use async_nats::jetstream::{self, stream};
use async_nats::HeaderMap;
use axum::body::Bytes;
use chrono::Utc;
use cityops_domain::TimelineEvent;
use futures_util::StreamExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::duty::Duty;
use crate::outbox::{self, Wake};
use crate::AppState;

/// How to reach NATS and the stream's settings, from the binary's configuration.
#[derive(Debug, Clone)]
pub struct JetStreamConfig {
    /// Server URLs, e.g. `nats://10.0.0.1:4222,nats://10.0.0.2:4222`.
    pub servers: Vec<String>,
    /// The stream's name.
    pub stream: String,
    /// Copies of the stream in the cluster: 1, or 3 or 5 to survive a server's loss.
    pub replicas: usize,
    /// How long the stream keeps changes.
    pub max_age: Duration,
}

/// Checks that `url` names a NATS server (`nats://HOST[:PORT]`, `tls://...`).
pub fn nats_server(url: &str) -> Result<(), String> {
    url.parse::<async_nats::ServerAddr>()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

impl JetStreamConfig {
    /// The stream's subjects: its own, so that streams of several cities (or a test's) on one
    /// NATS never overlap.
    fn subjects(&self) -> String {
        format!("cityops.{}.changes.>", self.stream)
    }

    /// The subject every change is published on.
    fn subject(&self) -> String {
        format!("cityops.{}.changes.case", self.stream)
    }

    /// A core NATS subject, outside the stream (never stored): a node that committed changes
    /// wakes the relay with it.
    fn written(&self) -> String {
        format!("cityops.{}.written", self.stream)
    }
}
const OUTBOX_ID: &str = "Cityops-Outbox-Id";
const CASE_ID: &str = "Cityops-Case-Id";
/// The relay's name among the outbox's consumers: pruning waits for it.
const CONSUMER: &str = "jetstream";
/// A message published twice within this long is stored once.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How often the server hosting a node's consumer shows it is alive; two missed and the
/// consumer is made again (on another server when that one died).
const HEARTBEAT: Duration = Duration::from_secs(2);
/// How long a request to JetStream may take: short, so that a server's loss costs seconds.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// How long to wait before trying NATS again after a failure.
const RETRY: Duration = Duration::from_millis(500);

/// Starts this node's part: waking the relay after its own writes, the relay while it holds
/// the duty, and the reader that feeds its subscribers. They end when the server stops.
pub(crate) fn spawn(state: AppState, wake: Arc<Wake>, config: JetStreamConfig) {
    tokio::spawn(async move {
        let Some(client) = connect(&state, &config).await else {
            return;
        };
        let mut js = jetstream::new(client.clone());
        js.set_timeout(REQUEST_TIMEOUT);
        state.duties.take_part(Duty::OutboxRelay);
        tokio::spawn(forward_wakes(
            state.clone(),
            client.clone(),
            wake,
            config.written(),
        ));
        tokio::spawn(relay(state.clone(), client, js.clone(), config.clone()));
        read(state, js, config).await;
    });
}

async fn connect(state: &AppState, config: &JetStreamConfig) -> Option<async_nats::Client> {
    loop {
        let connected = async_nats::ConnectOptions::new()
            .name(state.duties.holder())
            // Keeps trying in the background when NATS is away at start.
            .retry_on_initial_connect()
            .connect(config.servers.as_slice())
            .await;
        match connected {
            Ok(client) => return Some(client),
            Err(error) => {
                tracing::warn!(%error, "Cannot reach NATS; trying again.");
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => {}
                    _ = state.stopped() => return None,
                }
            }
        }
    }
}

/// The stream, created when it does not exist yet.
async fn ensure_stream(
    js: &jetstream::Context,
    config: &JetStreamConfig,
) -> Result<stream::Stream, String> {
    js.get_or_create_stream(stream::Config {
        name: config.stream.clone(),
        subjects: vec![config.subjects()],
        max_age: config.max_age,
        duplicate_window: DUPLICATE_WINDOW,
        num_replicas: config.replicas,
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| e.to_string())
}

/// The stream's last sequence and the outbox id of its last message, if it holds any.
async fn tail(stream: &mut stream::Stream) -> Result<(u64, Option<i64>), String> {
    let state = stream
        .info()
        .await
        .map_err(|e| e.to_string())?
        .state
        .clone();
    if state.messages == 0 {
        return Ok((state.last_sequence, None));
    }
    let last = stream
        .get_raw_message(state.last_sequence)
        .await
        .map_err(|e| e.to_string())?;
    Ok((state.last_sequence, outbox_id(&last.headers)))
}

fn outbox_id(headers: &HeaderMap) -> Option<i64> {
    headers.get(OUTBOX_ID)?.as_str().parse().ok()
}

/// Tells the relay, wherever it runs, that this node committed changes: bursts of writes
/// cost one message each time the relay is behind.
async fn forward_wakes(
    state: AppState,
    client: async_nats::Client,
    wake: Arc<Wake>,
    written: String,
) {
    let stopped = state.stopped();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            _ = wake.notify.notified() => {
                if let Err(error) = client.publish(written.clone(), Bytes::new()).await {
                    tracing::debug!(%error, "Could not wake the outbox relay.");
                }
            }
            _ = &mut stopped => return,
        }
    }
}

/// Publishes the outbox in order while this node holds the relay duty.
async fn relay(
    state: AppState,
    client: async_nats::Client,
    js: jetstream::Context,
    config: JetStreamConfig,
) {
    let stopped = state.stopped();
    tokio::pin!(stopped);
    let poll = state.config.outbox.poll;
    let subject = config.subject();
    let mut woken = loop {
        match client.subscribe(config.written()).await {
            Ok(subscriber) => break subscriber,
            Err(error) => {
                tracing::warn!(%error, "Cannot subscribe to the outbox's wake-ups; trying again.");
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => {}
                    _ = &mut stopped => return,
                }
            }
        }
    };
    loop {
        // Stand by until this node holds the relay.
        while !state.duties.holds(Duty::OutboxRelay) {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = &mut stopped => return,
            }
        }
        // Go on from the stream's last message: whatever the previous holder published.
        let start = async {
            let mut stream = ensure_stream(&js, &config).await?;
            match tail(&mut stream).await? {
                (_, Some(id)) => {
                    let end = state.store.outbox_end().await.map_err(|e| e.to_string())?;
                    if id > end {
                        // Rows the database never had: the stream is another database's, or
                        // the database was restored from before them.
                        tracing::error!(
                            stream = id,
                            outbox = end,
                            "The changes' stream is ahead of the outbox: delete the stream (docs/OPERATIONS.md, backup and restore); until then changes up to the stream's end are not shown."
                        );
                    }
                    Ok(id)
                }
                // An empty stream starts at the outbox's end: the live stream shows what
                // happens from now on.
                (_, None) => state.store.outbox_end().await.map_err(|e| e.to_string()),
            }
        };
        let mut cursor = match start.await {
            Ok(cursor) => cursor,
            Err(error) => {
                tracing::warn!(%error, "The outbox relay cannot find the stream's end; retrying.");
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => continue,
                    _ = &mut stopped => return,
                }
            }
        };
        tracing::info!(cursor, "The outbox relay publishes to JetStream from here.");
        let mut gap_since: Option<Instant> = None;
        let mut recorded = None;
        let mut last_record = Instant::now() - Duration::from_secs(1);
        while state.duties.holds(Duty::OutboxRelay) {
            let published = publish_ready(&state, &js, &subject, &mut cursor, &mut gap_since);
            if let Err(error) = published.await {
                tracing::warn!(%error, "The outbox relay could not publish; starting again.");
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => break,
                    _ = &mut stopped => return,
                }
            }
            if recorded != Some(cursor) && last_record.elapsed() >= Duration::from_secs(1) {
                if state
                    .store
                    .outbox_seen(CONSUMER, cursor, Utc::now())
                    .await
                    .is_ok()
                {
                    recorded = Some(cursor);
                }
                last_record = Instant::now();
            }
            let wait = if gap_since.is_some() {
                Duration::from_millis(100)
            } else {
                poll
            };
            tokio::select! {
                _ = woken.next() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = &mut stopped => return,
            }
        }
    }
}

/// Publishes every row after `cursor` that may go now and waits for JetStream to store them;
/// `cursor` moves past what is stored.
async fn publish_ready(
    state: &AppState,
    js: &jetstream::Context,
    subject: &str,
    cursor: &mut i64,
    gap_since: &mut Option<Instant>,
) -> Result<(), String> {
    loop {
        let (rows, more) = outbox::ready_rows(&state.store, *cursor, gap_since)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = rows.last().map(|e| e.id) else {
            return Ok(());
        };
        let mut acks = Vec::with_capacity(rows.len());
        for entry in rows {
            let Some(event) = entry.event else {
                tracing::warn!(
                    id = entry.id,
                    "An outbox row could not be read; passed over."
                );
                continue;
            };
            let mut headers = HeaderMap::new();
            let id = entry.id.to_string();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
            headers.insert(OUTBOX_ID, id.as_str());
            headers.insert(CASE_ID, entry.case_id.as_str());
            let case = outbox::case_as_of(&state.store, &entry.case_id, &event)
                .await
                .map_err(|e| e.to_string())?;
            let payload = payload_of(&event, case).map_err(|e| e.to_string())?;
            let ack = js
                .publish_with_headers(subject.to_owned(), headers, payload.into())
                .await
                .map_err(|e| e.to_string())?;
            acks.push(ack);
        }
        // Published together, acknowledged together: one round trip per batch.
        for ack in acks {
            ack.await.map_err(|e| e.to_string())?;
        }
        *cursor = last;
        if !more {
            return Ok(());
        }
    }
}

/// Reads the stream from its end at start, and on after every interruption, handing each
/// change to this node's subscribers once.
async fn read(state: AppState, js: jetstream::Context, config: JetStreamConfig) {
    let stopped = state.stopped();
    tokio::pin!(stopped);
    // The stream sequence to read next; none until the stream's end is known.
    let mut next: Option<u64> = None;
    loop {
        let started = async {
            let mut stream = ensure_stream(&js, &config).await?;
            let start = match next {
                Some(next) => next,
                None => {
                    let (last, id) = tail(&mut stream).await?;
                    let relayed = &state.outbox.relayed;
                    relayed.fetch_max(id.unwrap_or(0), Ordering::AcqRel);
                    last + 1
                }
            };
            // A consumer of this node's own, reading on from `start` without acknowledgements:
            // every node reads every change. Recreated from where it stopped whenever its
            // server goes away, which the heartbeat tells within a few seconds.
            let consumer = stream
                .create_consumer(pull::Config {
                    deliver_policy: DeliverPolicy::ByStartSequence {
                        start_sequence: start,
                    },
                    ack_policy: AckPolicy::None,
                    inactive_threshold: Duration::from_secs(60),
                    memory_storage: true,
                    num_replicas: 1,
                    ..Default::default()
                })
                .await
                .map_err(|e| e.to_string())?;
            consumer
                .stream()
                .heartbeat(HEARTBEAT)
                .expires(HEARTBEAT * 5)
                .max_messages_per_batch(500)
                .messages()
                .await
                .map_err(|e| e.to_string())
        };
        let mut messages = match started.await {
            Ok(messages) => messages,
            Err(error) => {
                tracing::warn!(%error, "Cannot read the changes' stream; trying again.");
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => continue,
                    _ = &mut stopped => return,
                }
            }
        };
        loop {
            let message = tokio::select! {
                message = messages.next() => message,
                _ = &mut stopped => return,
            };
            match message {
                Some(Ok(message)) => {
                    if let Ok(info) = message.info() {
                        next = Some(info.stream_sequence + 1);
                    }
                    if let Err(error) = hand_on(&state, &message).await {
                        tracing::warn!(%error, "A change from the stream could not be handed on.");
                    }
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "Reading the changes' stream failed; reading on.");
                    break;
                }
                None => break,
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            _ = &mut stopped => return,
        }
    }
}

/// Hands one published change to this node's subscribers, unless they had it already.
async fn hand_on(state: &AppState, message: &jetstream::Message) -> Result<(), String> {
    let headers = message.headers.as_ref().ok_or("a change without headers")?;
    let id = outbox_id(headers).ok_or("a change without its outbox id")?;
    if id <= state.outbox.relayed.load(Ordering::Acquire) {
        return Ok(());
    }
    if state.changes.receiver_count() == 0 {
        state.outbox.relayed.store(id, Ordering::Release);
        return Ok(());
    }
    let case_id = headers
        .get(CASE_ID)
        .ok_or("a change without its case")?
        .as_str()
        .to_owned();
    let (event, case) = read_payload(&message.payload).map_err(|e| e.to_string())?;
    if let Some(case) = case {
        let change = crate::CaseChange {
            seq: id,
            case: Arc::new(case),
            action: event.command.kind(),
            at: event.at,
        };
        outbox::deliver_change(state, change).await;
        return Ok(());
    }
    // Published by a node of an earlier version: the case is read here.
    let entry = cityops_store::OutboxEntry {
        id,
        topic: String::new(),
        case_id,
        event: Some(event),
        created_at: Utc::now(),
    };
    match outbox::change_of(&state.store, entry)
        .await
        .map_err(|e| e.to_string())?
    {
        Some(change) => outbox::deliver_change(state, change).await,
        None => state.outbox.relayed.store(id, Ordering::Release),
    }
    Ok(())
}

/// The key under which a message carries its case, beside the event's own fields: a node of
/// an earlier version reads the event and passes the key over.
const CASE_KEY: &str = "relayed_case";

/// A change's message: its timeline event, with the case as the event left it, read once by
/// the relay instead of once by every node. The reporter is left out: personal data stays in
/// the database, and nothing a node does with a change needs it.
fn payload_of(
    event: &TimelineEvent,
    case: Option<cityops_domain::Case>,
) -> serde_json::Result<Vec<u8>> {
    let mut payload = serde_json::to_value(event)?;
    if let (Some(mut case), Some(fields)) = (case, payload.as_object_mut()) {
        case.reporter = None;
        fields.insert(CASE_KEY.to_owned(), serde_json::to_value(case)?);
    }
    serde_json::to_vec(&payload)
}

fn read_payload(
    payload: &[u8],
) -> serde_json::Result<(TimelineEvent, Option<cityops_domain::Case>)> {
    let mut payload: serde_json::Value = serde_json::from_slice(payload)?;
    let case = payload
        .as_object_mut()
        .and_then(|fields| fields.remove(CASE_KEY))
        .map(serde_json::from_value)
        .transpose()?;
    Ok((serde_json::from_value(payload)?, case))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityops_domain::{Actor, AreaCode, Role};

    fn reported() -> (cityops_domain::Case, TimelineEvent) {
        let report = serde_json::from_value(serde_json::json!({
            "source": "hotline",
            "description": "南京东路路灯不亮",
            "address": null,
            "location": {"lon": 121.4919, "lat": 31.2150},
            "area": "310101002001",
            "category_hint": null,
            "component_id": null,
            "reporter": {"name": "王女士", "phone": "13700002222", "follow_token_hash": null},
        }))
        .unwrap();
        let operator = Actor {
            user_id: "u-operator".to_owned(),
            username: "operator".to_owned(),
            role: Role::Operator,
            unit: None,
            scope: AreaCode::parse("310101").unwrap(),
        };
        cityops_domain::report("c-1".to_owned(), report, &operator, Utc::now()).unwrap()
    }

    #[test]
    fn a_message_carries_the_case_without_its_reporter_and_reads_as_its_event_alone() {
        let (case, event) = reported();
        assert!(case.reporter.is_some());
        let payload = payload_of(&event, Some(case.clone())).unwrap();
        // (The event is relayed as the outbox holds it, its reporter sealed by the store.)
        let message: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        let relayed = message[CASE_KEY].to_string();
        assert!(
            !relayed.contains("王女士") && !relayed.contains("2222"),
            "{relayed}"
        );
        let (read_event, read_case) = read_payload(&payload).unwrap();
        assert_eq!(read_event, event);
        let mut expected = case;
        expected.reporter = None;
        assert_eq!(read_case, Some(expected));
        // A node of an earlier version reads the event and passes the case over.
        let old: TimelineEvent = serde_json::from_slice(&payload).unwrap();
        assert_eq!(old, event);
        // And a message an earlier relay published reads as a change without its case.
        let earlier = serde_json::to_vec(&event).unwrap();
        assert_eq!(read_payload(&earlier).unwrap(), (event, None));
    }
}
