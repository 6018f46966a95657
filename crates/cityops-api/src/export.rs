//! Answers too big to hold: the census and device exports and the OGC `cases` collection are
//! written page by page as the store reads them (keyset paging), so a request's memory is a
//! page, whatever the size of the city. The bytes are those the whole answer had when it was
//! built in memory: the same CSV writer per row (formula cells escaped by
//! `csv_file::write_row`), the same JSON per feature.
//!
//! The first page is read before the answer starts, so a store that cannot be read still
//! answers with an error; a failure later can only cut the body short, which the client sees
//! as a broken transfer (the chunked body never ends properly), never as a complete file.

use axum::body::{Body, Bytes};
use cityops_domain::telemetry::Device;
use cityops_domain::Component;
use cityops_store::telemetry::DeviceQuery;
use cityops_store::{ComponentQuery, Store, StoreError, StoreResult};
use std::future::Future;
use std::sync::Arc;

use crate::error::ApiResult;

/// Components or devices read per page.
pub(crate) const PAGE: u32 = 2_000;

/// A source of pages; an empty page is the end.
pub(crate) trait Pages: Send + 'static {
    type Item: Send + 'static;
    fn next(&mut self) -> impl Future<Output = StoreResult<Vec<Self::Item>>> + Send;
}

/// Turns pages into bytes: what comes before them, each page, what comes after.
pub(crate) trait Encoder<T>: Send + 'static {
    fn head(&mut self) -> Vec<u8>;
    fn page(&mut self, items: &[T]) -> Vec<u8>;
    fn tail(&mut self) -> Vec<u8>;
}

/// The streamed body of `pages` as `encoder` writes them.
pub(crate) async fn body<P: Pages, E: Encoder<P::Item>>(
    mut pages: P,
    mut encoder: E,
) -> ApiResult<Body> {
    let first = pages.next().await?;
    let mut opening = encoder.head();
    opening.extend(encoder.page(&first));
    let done = first.is_empty();
    if done {
        opening.extend(encoder.tail());
    }
    drop(first);
    let state = (Some(opening), done, pages, encoder);
    let stream = futures_util::stream::unfold(
        state,
        |(opening, done, mut pages, mut encoder)| async move {
            if let Some(opening) = opening {
                return Some((
                    Ok::<_, StoreError>(Bytes::from(opening)),
                    (None, done, pages, encoder),
                ));
            }
            if done {
                return None;
            }
            match pages.next().await {
                Ok(page) if page.is_empty() => {
                    let tail = encoder.tail();
                    Some((Ok(Bytes::from(tail)), (None, true, pages, encoder)))
                }
                Ok(page) => {
                    let bytes = encoder.page(&page);
                    Some((Ok(Bytes::from(bytes)), (None, false, pages, encoder)))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "An answer was cut short: the store failed while streaming it.");
                    Some((Err(e), (None, true, pages, encoder)))
                }
            }
        },
    );
    Ok(Body::from_stream(stream))
}

/// The census of a scope in id order.
pub(crate) struct ComponentPages {
    pub store: Arc<dyn Store>,
    pub query: ComponentQuery,
    pub done: bool,
}

impl ComponentPages {
    pub(crate) fn new(store: Arc<dyn Store>, query: ComponentQuery) -> ComponentPages {
        ComponentPages {
            store,
            query: ComponentQuery {
                limit: PAGE,
                ..query
            },
            done: false,
        }
    }
}

impl Pages for ComponentPages {
    type Item = Component;

    async fn next(&mut self) -> StoreResult<Vec<Component>> {
        if self.done {
            return Ok(Vec::new());
        }
        let page = self.store.components(&self.query).await?;
        self.done = page.len() < self.query.limit as usize;
        self.query.after = page.last().map(|c| c.id.clone());
        Ok(page)
    }
}

/// The devices of a scope in id order.
pub(crate) struct DevicePages {
    pub store: Arc<dyn Store>,
    pub query: DeviceQuery,
    pub done: bool,
}

impl Pages for DevicePages {
    type Item = Device;

    async fn next(&mut self) -> StoreResult<Vec<Device>> {
        if self.done {
            return Ok(Vec::new());
        }
        let page = self.store.devices(&self.query).await?;
        self.done = page.len() < self.query.limit as usize;
        self.query.after = page.last().map(|d| d.id.clone());
        Ok(page)
    }
}

/// CSV in Excel's form (UTF-8 with a byte-order mark): the header, then each page's rows
/// written by `rows`.
pub(crate) struct Csv<T> {
    pub columns: &'static [&'static str],
    pub rows: fn(&mut csv::Writer<Vec<u8>>, &[T]) -> csv::Result<()>,
}

impl<T: 'static> Encoder<T> for Csv<T> {
    fn head(&mut self) -> Vec<u8> {
        let mut out = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
        out.write_record(self.columns).expect("writing to memory");
        out.into_inner().expect("writing to memory")
    }

    fn page(&mut self, items: &[T]) -> Vec<u8> {
        // One writer per page writes the bytes one writer for the whole file would: quoting
        // is decided cell by cell and every record ends alike.
        let mut out = csv::Writer::from_writer(Vec::new());
        (self.rows)(&mut out, items).expect("writing to memory");
        out.into_inner().expect("writing to memory")
    }

    fn tail(&mut self) -> Vec<u8> {
        Vec::new()
    }
}

/// The census in the import format of CSV.
pub(crate) fn components_csv() -> Csv<Component> {
    Csv {
        columns: &cityops_domain::component::COMPONENT_CSV_COLUMNS,
        rows: cityops_domain::component::write_components_csv,
    }
}

/// Devices in the import format of CSV.
pub(crate) fn devices_csv() -> Csv<Device> {
    Csv {
        columns: &cityops_domain::telemetry::DEVICE_CSV_COLUMNS,
        rows: cityops_domain::telemetry::write_devices_csv,
    }
}

/// A GeoJSON FeatureCollection, `{"features":[...],"type":"FeatureCollection"}` with
/// whatever `members` add, in the key order `serde_json` writes a whole document in.
pub(crate) struct FeatureCollection<T> {
    pub feature: fn(&T) -> serde_json::Value,
    /// Features written so far.
    pub written: usize,
    /// The paging key of a feature, when `members` needs the last one written.
    pub key: Option<fn(&T) -> String>,
    pub last_key: Option<String>,
    /// Members after `features`, computed at the end (links, counts) from the number of
    /// features written and the last one's key.
    pub members: Members,
}

/// See [`FeatureCollection::members`].
pub(crate) type Members =
    Box<dyn FnMut(usize, Option<&str>) -> serde_json::Map<String, serde_json::Value> + Send>;

impl<T> FeatureCollection<T> {
    pub(crate) fn new(feature: fn(&T) -> serde_json::Value) -> FeatureCollection<T> {
        FeatureCollection {
            feature,
            written: 0,
            key: None,
            last_key: None,
            members: Box::new(|_: usize, _: Option<&str>| serde_json::Map::new()),
        }
    }
}

/// The document `members` + `"type"` + an empty `"features"`, split around where the
/// features go.
fn shell(members: serde_json::Map<String, serde_json::Value>) -> (String, String) {
    let mut document = members;
    document.insert(
        "type".into(),
        serde_json::Value::String("FeatureCollection".into()),
    );
    document.insert("features".into(), serde_json::Value::Array(Vec::new()));
    let text = serde_json::Value::Object(document).to_string();
    let at = text
        .find("\"features\":[]")
        .expect("the features member is in the document");
    let split = at + "\"features\":[".len();
    (text[..split].to_owned(), text[split..].to_owned())
}

impl<T: 'static> Encoder<T> for FeatureCollection<T> {
    fn head(&mut self) -> Vec<u8> {
        // Whatever comes before `features` is fixed at the start; members are written after
        // it (their keys sort after "features"), so only `type` may come first.
        let (head, _) = shell(serde_json::Map::new());
        head.into_bytes()
    }

    fn page(&mut self, items: &[T]) -> Vec<u8> {
        let mut out = Vec::with_capacity(items.len() * 400);
        for item in items {
            if self.written > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut out, &(self.feature)(item))
                .expect("a feature always serialises");
            self.written += 1;
        }
        if let (Some(key), Some(last)) = (self.key, items.last()) {
            self.last_key = Some(key(last));
        }
        out
    }

    fn tail(&mut self) -> Vec<u8> {
        let members = (self.members)(self.written, self.last_key.as_deref());
        debug_assert!(members.keys().all(|k| k.as_str() > "features"));
        let (_, tail) = shell(members);
        tail.into_bytes()
    }
}

/// The case list of a query, newest first, as the list pages it (`after` the last page's
/// cursor), so an export holds what the workbench shows.
pub(crate) struct CaseListPages {
    pub store: Arc<dyn Store>,
    pub query: cityops_store::CaseQuery,
    pub done: bool,
}

impl Pages for CaseListPages {
    type Item = cityops_domain::Case;

    async fn next(&mut self) -> StoreResult<Vec<cityops_domain::Case>> {
        if self.done {
            return Ok(Vec::new());
        }
        let page = self.store.cases(&self.query).await?;
        self.done = page.next.is_none();
        self.query.after = page.next;
        Ok(page.cases)
    }
}

/// The fixed columns of the case list's CSV; the class's extra fields follow when the list is
/// of one small class, then `fields`, every value as JSON.
pub(crate) const CASE_CSV_COLUMNS: [&str; 17] = [
    "number",
    "state",
    "source",
    "category",
    "category_name",
    "district",
    "area",
    "unit_grid",
    "unit",
    "urgent",
    "supervised",
    "overdue",
    "deadline",
    "reported_at",
    "closed_at",
    "address",
    "description",
];

/// Cases as CSV in Excel's form: times in Beijing time (`YYYY-MM-DD HH:MM:SS`), texts as
/// stored (personal data masked), one column per extra field of `class_fields`.
pub(crate) struct CaseCsv {
    pub class_fields: Vec<cityops_domain::form::ExtraField>,
    pub at: chrono::DateTime<chrono::Utc>,
}

fn beijing_time(at: chrono::DateTime<chrono::Utc>) -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    at.with_timezone(&offset)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn field_text(value: &cityops_domain::form::FieldValue) -> String {
    match value {
        cityops_domain::form::FieldValue::Text(text) => text.clone(),
        cityops_domain::form::FieldValue::Number(n) => n.to_string(),
    }
}

impl Encoder<cityops_domain::Case> for CaseCsv {
    fn head(&mut self) -> Vec<u8> {
        let mut out = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
        let mut header: Vec<String> = CASE_CSV_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
        header.extend(
            self.class_fields
                .iter()
                .map(|f| format!("fields.{}", f.key)),
        );
        header.push("fields".into());
        out.write_record(&header).expect("writing to memory");
        out.into_inner().expect("writing to memory")
    }

    fn page(&mut self, items: &[cityops_domain::Case]) -> Vec<u8> {
        let mut out = csv::Writer::from_writer(Vec::new());
        let yes_no = |b: bool| if b { "true" } else { "false" }.to_owned();
        for case in items {
            let mut row = vec![
                case.number.0.clone(),
                case.state.as_str().to_owned(),
                case.source.as_str().to_owned(),
                case.category
                    .as_ref()
                    .map(|c| c.code.to_string())
                    .or_else(|| case.category_hint.as_ref().map(|c| c.to_string()))
                    .unwrap_or_default(),
                case.category
                    .as_ref()
                    .map(|c| c.zh.clone())
                    .unwrap_or_default(),
                case.district.as_str().to_owned(),
                case.area.as_str().to_owned(),
                case.unit_grid.clone().unwrap_or_default(),
                case.unit.clone().unwrap_or_default(),
                yes_no(case.urgent),
                yes_no(case.supervised),
                yes_no(cityops_domain::case::is_overdue(
                    case.state,
                    case.deadline,
                    self.at,
                )),
                case.deadline.map(beijing_time).unwrap_or_default(),
                beijing_time(case.created_at),
                case.closed_at.map(beijing_time).unwrap_or_default(),
                case.address.clone().unwrap_or_default(),
                case.description.clone(),
            ];
            row.extend(
                self.class_fields
                    .iter()
                    .map(|f| case.fields.get(&f.key).map(field_text).unwrap_or_default()),
            );
            row.push(if case.fields.is_empty() {
                String::new()
            } else {
                serde_json::to_string(&case.fields).expect("values serialize")
            });
            cityops_domain::csv_file::write_row(&mut out, row).expect("writing to memory");
        }
        out.into_inner().expect("writing to memory")
    }

    fn tail(&mut self) -> Vec<u8> {
        Vec::new()
    }
}
