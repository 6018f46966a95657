//! The wire form of readings, shared by MQTT and HTTP.
//!
//! A reading is `{"device": "...", "metric": "water_level", "value": 12.5, "ts": ...}` or, for
//! several metrics at one instant, `{"device": "...", "ts": ..., "values": {"water_level": 12.5}}`.
//! `ts` is RFC 3339 text or Unix milliseconds; `seq` (optional) is the device's own message
//! counter, used to notice lost messages. A payload is one reading object or an array of
//! them; HTTP also takes NDJSON (one object per line). On a device's own MQTT topic the
//! device comes from the topic and may be left out.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// A reading as received, before the device and metric are resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct RawReading {
    pub device: String,
    pub metric: String,
    pub at: DateTime<Utc>,
    pub value: f64,
    pub seq: Option<u64>,
}

/// Why a reading (or a whole payload) was refused. The reason is the metrics label and the
/// dead-letter reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: Reason,
    /// Index of the reading in its payload (line for NDJSON), when it is one reading's fault.
    pub index: Option<usize>,
    /// The offending field, as the payload spells it.
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    Malformed,
    UnknownDevice,
    UnknownIndicator,
    TimestampOutOfRange,
    RetiredDevice,
    /// A value no working sensor of the indicator reports (outside its measuring range).
    ImplausibleValue,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Reason::Malformed,
        Reason::UnknownDevice,
        Reason::UnknownIndicator,
        Reason::TimestampOutOfRange,
        Reason::RetiredDevice,
        Reason::ImplausibleValue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Malformed => "malformed",
            Reason::UnknownDevice => "unknown_device",
            Reason::UnknownIndicator => "unknown_indicator",
            Reason::TimestampOutOfRange => "timestamp_out_of_range",
            Reason::RetiredDevice => "retired_device",
            Reason::ImplausibleValue => "implausible_value",
        }
    }
}

/// At most this many readings in one payload.
pub const MAX_READINGS: usize = 10_000;

fn malformed(index: Option<usize>, field: &str, message: impl Into<String>) -> Rejection {
    Rejection {
        reason: Reason::Malformed,
        index,
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Parses a JSON payload (one object or an array). `device` is the device named by the
/// topic, if any. Good readings come back even when others are refused.
pub fn parse_json(bytes: &[u8], device: Option<&str>) -> (Vec<RawReading>, Vec<Rejection>) {
    match parse_plain(bytes, device) {
        Some(readings) => (readings, Vec::new()),
        None => parse_json_in_full(bytes, device),
    }
}

/// The common form, `{"device", "metric", "value", "ts" in milliseconds, "seq"}`, one object or
/// an array of them, read straight into its fields. Any other key sends the payload to the
/// full reading, which checks every value (a skipped value is not checked).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainReading<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    device: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    metric: std::borrow::Cow<'a, str>,
    value: f64,
    ts: i64,
    #[serde(default)]
    seq: Option<u64>,
    /// Present only to notice it: `values` beside `metric` is refused in full.
    #[serde(default, deserialize_with = "present")]
    values: Option<serde::de::IgnoredAny>,
}

/// A [`PlainReading`] written as a JSON object only: serde would also fill a struct from an
/// array of its fields in order, which the full reading refuses.
struct PlainObject<'de>(PlainReading<'de>);

impl<'de> serde::Deserialize<'de> for PlainObject<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> serde::de::Visitor<'de> for Object {
            type Value = PlainObject<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a reading object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                serde::Deserialize::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(PlainObject)
            }
        }
        deserializer.deserialize_map(Object)
    }
}

/// `Some` whenever the field is there, even as `null` (which the full reading refuses for
/// `device` and `values`), so that only an absent field is `None`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Readings from a payload made only of plain readings that are all good; `None` for
/// anything else, which [`parse_json_in_full`] then reads, naming every fault. A message a
/// second per device at city scale makes this the path nearly every payload takes: it
/// skips building a JSON tree and a string for every key.
fn parse_plain(bytes: &[u8], topic_device: Option<&str>) -> Option<Vec<RawReading>> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace())?;
    let items = match first {
        b'{' => vec![serde_json::from_slice::<PlainObject>(bytes).ok()?],
        b'[' => Some(serde_json::from_slice::<Vec<PlainObject>>(bytes).ok()?)
            .filter(|items| items.len() <= MAX_READINGS)?,
        _ => return None,
    };
    items
        .into_iter()
        .map(|PlainObject(item)| {
            if item.values.is_some() || !item.value.is_finite() {
                return None;
            }
            let device = match (item.device, topic_device) {
                (Some(d), Some(topic)) if d != topic => return None,
                (Some(d), _) => d.into_owned(),
                (None, Some(topic)) => topic.to_owned(),
                (None, None) => return None,
            };
            cityops_domain::telemetry::device_id("device", &device).ok()?;
            Some(RawReading {
                device,
                metric: item.metric.into_owned(),
                at: DateTime::from_timestamp_millis(item.ts)?,
                value: item.value,
                seq: item.seq,
            })
        })
        .collect()
}

/// Reads any payload through a JSON tree, so that every fault is named.
fn parse_json_in_full(bytes: &[u8], device: Option<&str>) -> (Vec<RawReading>, Vec<Rejection>) {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(value) => value,
        Err(e) => {
            return (
                Vec::new(),
                vec![malformed(None, "body", format!("not JSON: {e}"))],
            )
        }
    };
    match value {
        Value::Array(items) => parse_items(items.into_iter().map(Ok), device),
        Value::Object(_) => parse_items(std::iter::once(Ok(value)), device),
        _ => (
            Vec::new(),
            vec![malformed(
                None,
                "body",
                "expected a reading object or an array of them",
            )],
        ),
    }
}

/// Parses NDJSON: one reading object per non-empty line.
pub fn parse_ndjson(text: &[u8]) -> (Vec<RawReading>, Vec<Rejection>) {
    let lines = text
        .split(|&b| b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .map(|line| serde_json::from_slice::<Value>(line).map_err(|e| e.to_string()));
    parse_items(lines, None)
}

fn parse_items(
    items: impl Iterator<Item = Result<Value, String>>,
    device: Option<&str>,
) -> (Vec<RawReading>, Vec<Rejection>) {
    let mut readings = Vec::new();
    let mut rejections = Vec::new();
    for (index, item) in items.enumerate() {
        if index >= MAX_READINGS {
            rejections.push(malformed(
                Some(index),
                "body",
                format!("at most {MAX_READINGS} readings per payload"),
            ));
            break;
        }
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                rejections.push(malformed(Some(index), "body", format!("not JSON: {e}")));
                continue;
            }
        };
        if let Err(rejection) = parse_one(&item, device, &mut readings) {
            rejections.push(Rejection {
                index: Some(index),
                ..rejection
            });
        }
    }
    (readings, rejections)
}

fn parse_one(
    item: &Value,
    topic_device: Option<&str>,
    out: &mut Vec<RawReading>,
) -> Result<(), Rejection> {
    let Value::Object(object) = item else {
        return Err(malformed(None, "body", "a reading is a JSON object"));
    };
    let device = match (object.get("device"), topic_device) {
        (Some(Value::String(d)), Some(topic)) if d != topic => {
            return Err(malformed(
                None,
                "device",
                format!("the payload names {d} on the topic of {topic}"),
            ))
        }
        (Some(Value::String(d)), _) => d.as_str(),
        (Some(_), _) => return Err(malformed(None, "device", "must be a string")),
        (None, Some(topic)) => topic,
        (None, None) => return Err(malformed(None, "device", "is missing")),
    };
    cityops_domain::telemetry::device_id("device", device)
        .map_err(|e| malformed(None, "device", e.reason))?;
    let at = timestamp(object.get("ts"))?;
    let seq = match object.get("seq") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .or_else(|| {
                    v.as_number()
                        .and_then(whole)
                        .and_then(|n| n.try_into().ok())
                })
                .ok_or_else(|| malformed(None, "seq", "must be a whole number"))?,
        ),
    };
    let number = |field: &str, v: &Value| -> Result<f64, Rejection> {
        v.as_f64()
            .filter(|v| v.is_finite())
            .ok_or_else(|| malformed(None, field, "must be a finite number"))
    };
    match (object.get("metric"), object.get("values")) {
        (Some(Value::String(metric)), None) => {
            let value = number("value", object.get("value").unwrap_or(&Value::Null))?;
            out.push(RawReading {
                device: device.to_owned(),
                metric: metric.clone(),
                at,
                value,
                seq,
            });
        }
        (None, Some(Value::Object(values))) if !values.is_empty() => {
            // Checked first so a bad value refuses the whole object, not half of it.
            let parsed = values
                .iter()
                .map(|(metric, v)| Ok((metric, number(&format!("values.{metric}"), v)?)))
                .collect::<Result<Vec<_>, Rejection>>()?;
            for (metric, value) in parsed {
                out.push(RawReading {
                    device: device.to_owned(),
                    metric: metric.clone(),
                    at,
                    value,
                    seq,
                });
            }
        }
        (Some(_), Some(_)) => {
            return Err(malformed(
                None,
                "metric",
                "give metric and value, or values, not both",
            ))
        }
        (Some(_), None) => return Err(malformed(None, "metric", "must be a string")),
        _ => {
            return Err(malformed(
                None,
                "metric",
                "give metric and value, or a values object",
            ))
        }
    }
    Ok(())
}

/// A JSON number that is whole: `1700000000000` or `1700000000000.0` (JSON has one number
/// type, and JSON Schema counts the second as an integer too).
fn whole(n: &serde_json::Number) -> Option<i64> {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    n.as_i64().or_else(|| {
        n.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() <= EXACT)
            .map(|f| f as i64)
    })
}

fn timestamp(value: Option<&Value>) -> Result<DateTime<Utc>, Rejection> {
    match value {
        Some(Value::String(text)) => DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| malformed(None, "ts", format!("not an RFC 3339 time: {e}"))),
        Some(Value::Number(n)) => whole(n)
            .and_then(DateTime::from_timestamp_millis)
            .ok_or_else(|| {
                malformed(
                    None,
                    "ts",
                    "Unix milliseconds must be a whole number in range",
                )
            }),
        Some(_) => Err(malformed(None, "ts", "RFC 3339 text or Unix milliseconds")),
        None => Err(malformed(None, "ts", "is missing")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_of_a_reading() {
        let (ok, bad) = parse_json(br#"{"device":"d1","metric":"water_level","value":12.5,"ts":"2026-11-25T10:00:00+08:00","seq":7}"#, None);
        assert!(bad.is_empty());
        assert_eq!(ok[0].at.timestamp(), 1_795_572_000);
        assert_eq!(ok[0].seq, Some(7));
        let (ok, bad) = parse_json(
            br#"[{"ts":1795572000000,"values":{"pm25":80,"water_level":3}}]"#,
            Some("d2"),
        );
        assert!(bad.is_empty());
        assert_eq!(ok.len(), 2);
        assert!(ok.iter().all(|r| r.device == "d2"));
        let (ok, bad) = parse_ndjson(b"{\"device\":\"a\",\"metric\":\"pm25\",\"value\":1,\"ts\":1}\n\n{\"device\":\"b\",\"metric\":\"pm25\",\"value\":2,\"ts\":2}\n");
        assert_eq!((ok.len(), bad.len()), (2, 0));
    }

    #[test]
    fn malformed_readings_name_index_and_field() {
        let corpus: &[(&[u8], &str)] = &[
            (b"not json", "body"),
            (b"42", "body"),
            (b"[1]", "body"),
            (br#"[{"metric":"pm25","value":1,"ts":1}]"#, "device"),
            (
                br#"[{"device":"a b","metric":"pm25","value":1,"ts":1}]"#,
                "device",
            ),
            (
                br#"[{"device":"a","metric":"pm25","value":"high","ts":1}]"#,
                "value",
            ),
            (br#"[{"device":"a","metric":"pm25","value":1}]"#, "ts"),
            (
                br#"[{"device":"a","metric":"pm25","value":1,"ts":"yesterday"}]"#,
                "ts",
            ),
            (
                br#"[{"device":"a","metric":"pm25","value":1,"ts":1.5}]"#,
                "ts",
            ),
            (
                br#"[{"device":"a","values":{"pm25":null},"ts":1}]"#,
                "values.pm25",
            ),
            (br#"[{"device":"a","ts":1}]"#, "metric"),
            (
                br#"[{"device":"a","metric":"pm25","value":1,"ts":1,"seq":-1}]"#,
                "seq",
            ),
        ];
        for (payload, field) in corpus {
            let (ok, bad) = parse_json(payload, None);
            assert!(ok.is_empty(), "{}", String::from_utf8_lossy(payload));
            assert_eq!(bad[0].field, *field, "{}", String::from_utf8_lossy(payload));
            assert_eq!(bad[0].reason, Reason::Malformed);
        }
        let (ok, bad) = parse_json(br#"[{"device":"a","metric":"pm25","value":1,"ts":1},{"device":"a","metric":"pm25","ts":2}]"#, None);
        assert_eq!(ok.len(), 1);
        assert_eq!(bad[0].index, Some(1));
    }

    /// A field of a generated reading: its key and its JSON text.
    fn field() -> impl proptest::strategy::Strategy<Value = (String, String)> {
        use proptest::prelude::*;
        let pick = |key: &'static str, texts: &'static [&'static str]| {
            proptest::sample::select(texts).prop_map(move |t| (key.to_owned(), t.to_owned()))
        };
        prop_oneof![
            pick(
                "device",
                &[
                    r#""d1""#,
                    r#""d2""#,
                    r#""a b""#,
                    r#""d\u0031""#,
                    "null",
                    "5"
                ]
            ),
            pick("metric", &[r#""pm25""#, r#""water_level""#, "null", "3"]),
            pick(
                "value",
                &[
                    "1.5",
                    "7",
                    "-0.0",
                    "1e3",
                    r#""x""#,
                    "null",
                    "18446744073709551615"
                ]
            ),
            pick(
                "ts",
                &[
                    "1795572000000",
                    "1.5",
                    "-1",
                    r#""2026-11-25T10:00:00Z""#,
                    "null",
                    "99999999999999999999"
                ]
            ),
            pick("seq", &["3", "-1", "null", "1.5"]),
            pick("values", &["null", r#"{"pm25":1}"#, "{}"]),
            pick(
                "extra",
                &["[1,2]", r#"{"a":null}"#, "1e400", r#""\ud800""#, "1"]
            ),
        ]
    }

    proptest::proptest! {
        // About one case in ten is a payload the shortcut takes.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2048))]
        /// Whatever the shortcut for plain readings accepts, it reads exactly as the full
        /// reading does; everything else it leaves to the full reading.
        #[test]
        fn the_plain_shortcut_agrees_with_the_full_reading(
            objects in proptest::collection::vec(
                (proptest::collection::vec(proptest::bool::weighted(0.9), 4),
                 proptest::collection::vec(field(), 0..3)),
                1..4,
            ),
            array in proptest::bool::ANY,
            // A reading written as an array of its fields, and a value nested too deep to read.
            tuple in proptest::bool::weighted(0.1),
            deep in proptest::bool::weighted(0.1),
            topic in proptest::option::of(proptest::sample::select(&["d1", "d2"][..])),
        ) {
            // A good plain reading, some of its fields left out, others added (perhaps twice).
            let good = [("device", r#""d1""#), ("metric", r#""pm25""#), ("value", "1.5"), ("ts", "1795572000000")];
            let mut objects: Vec<String> = objects
                .iter()
                .map(|(keep, extra)| {
                    let body: Vec<String> = good
                        .iter()
                        .zip(keep)
                        .filter(|(_, keep)| **keep)
                        .map(|((k, v), _)| format!(r#""{k}":{v}"#))
                        .chain(extra.iter().map(|(k, v)| format!(r#""{k}":{v}"#)))
                        .collect();
                    format!("{{{}}}", body.join(","))
                })
                .collect();
            if tuple {
                objects.push(r#"["d1","pm25",1.5,1795572000000,7]"#.to_owned());
            }
            if deep {
                let last = objects.len() - 1;
                let nested = format!("{}{}", "[".repeat(200), "]".repeat(200));
                objects[last] = objects[last].replacen('{', &format!(r#"{{"deep":{nested},"#), 1).replace(",}", "}");
            }
            let text = if array || objects.len() > 1 {
                format!(" [{}]", objects.join(","))
            } else {
                objects[0].clone()
            };
            proptest::prop_assert_eq!(
                parse_json(text.as_bytes(), topic),
                parse_json_in_full(text.as_bytes(), topic),
                "{}", text
            );
        }
    }

    #[test]
    fn the_shortcut_leaves_what_it_cannot_check_to_the_full_reading() {
        let mut bad_text = br#"{"device":"d1","metric":"pm25","value":1,"ts":1,"note":""#.to_vec();
        bad_text.extend_from_slice(&[0xFF, 0xFE]);
        bad_text.extend_from_slice(br#""}"#);
        for payload in [
            &bad_text[..],
            br#"[["d1","pm25",1.5,1795572000000]]"#,
            br#"{"device":"d1","metric":"pm25","value":1,"ts":1,"x":1e400}"#,
        ] {
            assert!(parse_plain(payload, None).is_none());
            let (ok, bad) = parse_json(payload, None);
            assert!(
                ok.is_empty() && bad.len() == 1,
                "{}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    #[test]
    fn plain_readings_take_the_shortcut() {
        let text = br#"[{"device":"d1","metric":"pm25","value":1.5,"ts":1795572000000,"seq":2},{"metric":"pm25","value":2,"ts":1795572000001}]"#;
        let fast = parse_plain(text, Some("d1")).expect("plain readings");
        assert_eq!(fast, parse_json_in_full(text, Some("d1")).0);
        assert_eq!(fast[1].device, "d1");
        assert!(parse_plain(br#"{"device":"d1","values":{"pm25":1},"ts":1}"#, None).is_none());
    }

    #[test]
    fn a_payload_cannot_speak_for_another_device_on_a_device_topic() {
        let (ok, bad) = parse_json(
            br#"{"device":"other","metric":"pm25","value":1,"ts":1}"#,
            Some("mine"),
        );
        assert!(ok.is_empty());
        assert_eq!(bad[0].field, "device");
    }
}
