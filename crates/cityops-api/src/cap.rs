//! The Common Alerting Protocol (CAP 1.2, OASIS), as weather services publish their warnings:
//! the parts of an `<alert>` a warning is made of. The XML is read with quick-xml's
//! namespace-aware reader, so a prefixed document (`<cap:alert>`) reads like one in the
//! default namespace, and anything that is not a CAP 1.2 alert is refused naming the element
//! at fault.

use chrono::{DateTime, Utc};
use cityops_domain::emergency::Hazard;
use cityops_domain::telemetry::WarningLevel;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use crate::error::{ApiError, ErrorCode};

/// CAP 1.2's namespace.
pub const NAMESPACE: &str = "urn:oasis:names:tc:emergency:cap:1.2";

/// What an alert asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    Alert,
    Update,
    Cancel,
}

/// An alert, as much of it as a warning needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub identifier: String,
    pub sender: String,
    pub message: Message,
    /// The earlier alerts an update or cancellation refers to, as `sender|identifier`.
    pub references: Vec<String>,
    pub hazard: Hazard,
    pub level: WarningLevel,
    pub headline: String,
    pub description: String,
    pub effective: Option<DateTime<Utc>>,
    pub expires: DateTime<Utc>,
    /// The geocodes' values (administrative division codes) of its areas.
    pub geocodes: Vec<String>,
    pub area_descriptions: Vec<String>,
}

#[derive(Debug, Default)]
struct Node {
    name: String,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_owned())
            .filter(|t| !t.is_empty())
    }

    fn needed(&self, name: &str, path: &str) -> Result<String, ApiError> {
        self.text_of(name)
            .ok_or_else(|| refused(&format!("{path}{name}"), "is missing or empty"))
    }
}

fn refused(element: &str, reason: &str) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidFile,
        format!("not a CAP 1.2 alert: <{element}> {reason}"),
    )
    .with_field(element.to_owned())
}

const MAX_DEPTH: usize = 16;
const MAX_NODES: usize = 20_000;

/// Reads the document into a tree of CAP elements (by local name), refusing elements of
/// another namespace at the root.
fn tree(xml: &[u8]) -> Result<Node, ApiError> {
    let mut reader = NsReader::from_reader(xml);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut nodes = 0;
    let mut buf = Vec::new();
    let broken = |e: &dyn std::fmt::Display| {
        ApiError::new(ErrorCode::InvalidFile, format!("not well-formed XML: {e}"))
            .with_field("alert")
    };
    loop {
        let (ns, event) = reader
            .read_resolved_event_into(&mut buf)
            .map_err(|e| broken(&e))?;
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let name = start.local_name().as_ref().to_owned();
                if stack.is_empty() {
                    if root.is_some() {
                        return Err(refused(&name, "follows the root element"));
                    }
                    let cap = matches!(&ns, ResolveResult::Bound(n) if n.as_ref() == NAMESPACE);
                    if name != "alert" || !cap {
                        return Err(refused(
                            &name,
                            &format!("is the root element; a CAP 1.2 alert is <alert xmlns=\"{NAMESPACE}\">"),
                        ));
                    }
                }
                nodes += 1;
                if nodes > MAX_NODES || stack.len() >= MAX_DEPTH {
                    return Err(refused(&name, "makes the document too large or too deep"));
                }
                let node = Node {
                    name,
                    ..Node::default()
                };
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => root = Some(node),
                    }
                } else {
                    stack.push(node);
                }
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| broken(&"an end tag without a start"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(text) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                if let Some(top) = stack.last_mut() {
                    let character = match reference.resolve_char_ref().map_err(|e| broken(&e))? {
                        Some(c) => c,
                        None => match reference.into_inner().as_ref() {
                            "amp" => '&',
                            "lt" => '<',
                            "gt" => '>',
                            "quot" => '"',
                            "apos" => '\'',
                            other => {
                                return Err(broken(&format!("the entity &{other}; is not XML's")))
                            }
                        },
                    };
                    top.text.push(character);
                }
            }
            Event::CData(data) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&data.into_inner());
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err(broken(&"the document ends inside an element"));
    }
    root.ok_or_else(|| refused("alert", "is missing: the document holds no element"))
}

fn time(node: &Node, name: &str, path: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    node.text_of(name)
        .map(|t| {
            DateTime::parse_from_rfc3339(&t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| refused(&format!("{path}{name}"), "is no CAP dateTime"))
        })
        .transpose()
}

/// The level an alert's event or headline names by colour, else its CAP severity's.
fn level_of(texts: &[&str], severity: &str) -> Result<WarningLevel, ApiError> {
    const COLOURS: [(&str, WarningLevel); 8] = [
        ("红色", WarningLevel::Red),
        ("橙色", WarningLevel::Orange),
        ("黄色", WarningLevel::Yellow),
        ("蓝色", WarningLevel::Blue),
        ("red", WarningLevel::Red),
        ("orange", WarningLevel::Orange),
        ("yellow", WarningLevel::Yellow),
        ("blue", WarningLevel::Blue),
    ];
    for text in texts {
        let lower = text.to_lowercase();
        if let Some((_, level)) = COLOURS.iter().find(|(c, _)| lower.contains(c)) {
            return Ok(*level);
        }
    }
    match severity {
        "Extreme" => Ok(WarningLevel::Red),
        "Severe" => Ok(WarningLevel::Orange),
        "Moderate" => Ok(WarningLevel::Yellow),
        "Minor" => Ok(WarningLevel::Blue),
        _ => Err(refused(
            "info.severity",
            "gives no level: neither Extreme, Severe, Moderate nor Minor, and the event names no colour",
        )),
    }
}

/// Reads a CAP 1.2 alert.
pub fn parse(xml: &[u8]) -> Result<Alert, ApiError> {
    let alert = tree(xml)?;
    let identifier = alert.needed("identifier", "")?;
    let sender = alert.needed("sender", "")?;
    alert.needed("sent", "")?;
    let status = alert.needed("status", "")?;
    if status != "Actual" {
        return Err(refused(
            "status",
            &format!("is {status}: only an Actual alert is imported"),
        ));
    }
    let message = match alert.needed("msgType", "")?.as_str() {
        "Alert" => Message::Alert,
        "Update" => Message::Update,
        "Cancel" => Message::Cancel,
        other => {
            return Err(refused(
                "msgType",
                &format!("is {other}: Alert, Update or Cancel is imported"),
            ))
        }
    };
    alert.needed("scope", "")?;
    if identifier.chars().count() > 200 || sender.chars().count() > 200 {
        return Err(refused("identifier", "is longer than 200 characters"));
    }
    let references = alert
        .text_of("references")
        .map(|r| {
            r.split_whitespace()
                .filter_map(|one| {
                    let mut parts = one.split(',');
                    Some(format!("{}|{}", parts.next()?, parts.next()?))
                })
                .collect()
        })
        .unwrap_or_default();
    // The Chinese info block when there are several languages.
    let infos: Vec<&Node> = alert.all("info").collect();
    let info = infos
        .iter()
        .find(|i| i.text_of("language").is_some_and(|l| l.starts_with("zh")))
        .or_else(|| infos.first())
        .ok_or_else(|| refused("info", "is missing: an alert has at least one"))?;
    let event = info.needed("event", "info.")?;
    info.needed("urgency", "info.")?;
    let severity = info.needed("severity", "info.")?;
    info.needed("certainty", "info.")?;
    let headline = info.text_of("headline").unwrap_or_else(|| event.clone());
    let description = info.text_of("description").unwrap_or_default();
    let hazard = Hazard::from_event(&event)
        .or_else(|| Hazard::from_event(&headline))
        .unwrap_or(Hazard::Other);
    let level = level_of(&[&event, &headline], &severity)?;
    let effective = time(info, "effective", "info.")?.or(time(info, "onset", "info.")?);
    let expires = time(info, "expires", "info.")?
        .ok_or_else(|| refused("info.expires", "is missing: a warning needs its expiry"))?;
    let mut geocodes = Vec::new();
    let mut area_descriptions = Vec::new();
    for area in info.all("area") {
        area_descriptions.push(area.needed("areaDesc", "info.area.")?);
        for geocode in area.all("geocode") {
            if let Some(value) = geocode.text_of("value") {
                geocodes.push(value);
            }
        }
    }
    if area_descriptions.is_empty() {
        return Err(refused("info.area", "is missing: the alert names no area"));
    }
    Ok(Alert {
        identifier,
        sender,
        message,
        references,
        hazard,
        level,
        headline: headline.chars().take(200).collect(),
        description: description.chars().take(4000).collect(),
        effective,
        expires,
        geocodes,
        area_descriptions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn rainstorm() -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="{NAMESPACE}">
  <identifier>44000041600000_20260701140000</identifier>
  <sender>上海中心气象台</sender>
  <sent>2026-07-01T14:00:00+08:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>zh-CN</language>
    <category>Met</category>
    <event>暴雨红色预警</event>
    <urgency>Immediate</urgency>
    <severity>Extreme</severity>
    <certainty>Likely</certainty>
    <effective>2026-07-01T14:00:00+08:00</effective>
    <expires>2026-07-01T20:00:00+08:00</expires>
    <headline>上海中心气象台发布暴雨红色预警信号</headline>
    <description>预计未来3小时黄浦、徐汇、长宁将出现100毫米以上降水 &amp; 内涝。</description>
    <area>
      <areaDesc>黄浦区、徐汇区、长宁区</areaDesc>
      <geocode><valueName>GB/T 2260</valueName><value>310101</value></geocode>
      <geocode><valueName>GB/T 2260</valueName><value>310104</value></geocode>
      <geocode><valueName>GB/T 2260</valueName><value>310105</value></geocode>
    </area>
  </info>
</alert>"#
        )
    }

    #[test]
    fn a_chinese_rainstorm_alert_is_read() {
        let alert = parse(rainstorm().as_bytes()).unwrap();
        assert_eq!(alert.hazard, Hazard::Rainstorm);
        assert_eq!(alert.level, WarningLevel::Red);
        assert_eq!(alert.message, Message::Alert);
        assert_eq!(alert.geocodes, ["310101", "310104", "310105"]);
        assert!(alert.description.contains("& 内涝"));
        assert_eq!(
            alert.expires,
            DateTime::parse_from_rfc3339("2026-07-01T12:00:00Z").unwrap()
        );
    }

    #[test]
    fn a_prefixed_alert_reads_like_one_in_the_default_namespace() {
        let prefixed = rainstorm()
            .replace(
                &format!("<alert xmlns=\"{NAMESPACE}\">"),
                &format!("<cap:alert xmlns:cap=\"{NAMESPACE}\">"),
            )
            .replace("</alert>", "</cap:alert>")
            .replace('<', "<cap:")
            .replace("<cap:/", "</cap:")
            .replace("<cap:?", "<?")
            .replace("<cap:cap:", "<cap:")
            .replace("</cap:cap:", "</cap:");
        let alert = parse(prefixed.as_bytes()).unwrap();
        assert_eq!(alert.level, WarningLevel::Red);
    }

    #[test]
    fn what_is_not_cap_is_refused_naming_the_element() {
        for (xml, element) in [
            ("<rss><channel/></rss>".to_owned(), "rss"),
            (
                "<alert><identifier>x</identifier></alert>".to_owned(),
                "alert",
            ),
            ("not xml at all".to_owned(), "alert"),
            (
                rainstorm().replace("<identifier>44000041600000_20260701140000</identifier>", ""),
                "identifier",
            ),
            (
                rainstorm().replace("<expires>2026-07-01T20:00:00+08:00</expires>", ""),
                "info.expires",
            ),
            (rainstorm().replace("Actual", "Exercise"), "status"),
            (
                rainstorm().replace("2026-07-01T20:00:00+08:00", "tonight"),
                "info.expires",
            ),
            (
                rainstorm()
                    .replace("暴雨红色预警", "暴雨预警")
                    .replace("Extreme", "Unknown"),
                "info.severity",
            ),
        ] {
            let error = parse(xml.as_bytes()).unwrap_err();
            assert_eq!(
                error.field.as_deref(),
                Some(element),
                "{xml}: {}",
                error.message
            );
            assert_eq!(error.code, ErrorCode::InvalidFile);
        }
    }
}
