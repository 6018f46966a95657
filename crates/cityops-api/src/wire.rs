//! The closed vocabularies of the API (roles, case states, sources, area levels...) as the
//! OpenAPI document publishes them: each one a named string-enum schema (`Role`,
//! `CaseState`...) whose values come from the vocabulary's own list of values, so neither the
//! document nor the web's types generated from it can drift from what the server sends.
//!
//! A view field holds the value in a [`Wire`], which serialises to the value's wire name, the
//! very string the field held before, and describes itself in the document as a `$ref` to the
//! vocabulary's schema. Fields are typed with the aliases below (`wire::Role`), not with
//! `Wire<cityops_domain::Role>` spelled out: utoipa names the schema of a generic field after
//! its type arguments (`Wire_Role`), which would need the domain's types to implement utoipa's
//! traits, and the domain knows nothing of HTTP.
//!
//! Request fields stay `String`s checked by their handler, so a wrong value still answers 422
//! naming the field in the handler's words; `#[schema(value_type = wire::Role)]` only tells the
//! document which values are accepted.

use std::borrow::Cow;

use cityops_domain::CommandKind;
use serde::{Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// A closed set of values with one string each on the wire.
pub trait Vocabulary: Copy + 'static {
    /// The schema's name in the OpenAPI document, e.g. `CaseState`.
    const SCHEMA: &'static str;
    /// What the values are, for the document's readers.
    const DESCRIPTION: &'static str;

    /// Every value, in the order the document lists them.
    fn all() -> impl Iterator<Item = Self>;

    /// The value's string on the wire.
    fn wire_name(self) -> &'static str;
}

/// A value of a [`Vocabulary`] in a view: its wire name in JSON, its vocabulary's schema in
/// the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire<T>(pub T);

impl<T: Vocabulary> Serialize for Wire<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.wire_name())
    }
}

impl<T: Vocabulary> PartialSchema for Wire<T> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::new(Type::String))
            .enum_values(Some(T::all().map(T::wire_name)))
            .description(Some(T::DESCRIPTION))
            .into()
    }
}

impl<T: Vocabulary> ToSchema for Wire<T> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(T::SCHEMA)
    }
}

/// A vocabulary whose values are the type's `ALL`, each written as its `as_str()`: the shape
/// of the domain's enums. Declares the alias a view field names, after the schema.
macro_rules! vocabulary {
    ($($value:ty => $schema:ident: $description:literal;)*) => {$(
        impl Vocabulary for $value {
            const SCHEMA: &'static str = stringify!($schema);
            const DESCRIPTION: &'static str = $description;

            fn all() -> impl Iterator<Item = Self> {
                <$value>::ALL.into_iter()
            }

            fn wire_name(self) -> &'static str {
                self.as_str()
            }
        }

        #[doc = $description]
        pub type $schema = Wire<$value>;
    )*};
}

/// A role someone signs in or a key acts with: every [`cityops_domain::Role`] but `citizen`
/// and `system`, which no account or key has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffRoleName(pub cityops_domain::Role);

impl Vocabulary for StaffRoleName {
    const SCHEMA: &'static str = "StaffRole";
    const DESCRIPTION: &'static str =
        "A staff role: any role but `citizen` and `system`, which no account or key has.";

    fn all() -> impl Iterator<Item = Self> {
        cityops_domain::Role::ALL
            .into_iter()
            .filter(|r| {
                !matches!(
                    r,
                    cityops_domain::Role::Citizen | cityops_domain::Role::System
                )
            })
            .map(StaffRoleName)
    }

    fn wire_name(self) -> &'static str {
        self.0.as_str()
    }
}

/// See [`StaffRoleName`].
pub type StaffRole = Wire<StaffRoleName>;

vocabulary! {
    cityops_domain::Role => Role:
        "A user's role, which decides what they may do (GET /api/v1/workflow gives each \
         command's roles). `citizen` and `system` are never a signed-in user's.";
    cityops_domain::CaseState => CaseState:
        "A case's state in the workflow (GET /api/v1/workflow gives each one's Chinese name \
         and whether it is terminal).";
    cityops_domain::Source => CaseSource:
        "Where a report came from: an inspector's patrol, the 12345 hotline, a citizen's \
         photo, an IoT alarm, a department or a leader.";
    cityops_domain::AssistState => AssistState:
        "Where an assisting unit's part (协办) stands: assigned, handling (signed for, on its \
         own deadline), done (fed back), released (taken back by the dispatcher) or returned \
         (not the unit's).";
    cityops_domain::case::Stage => CaseStage:
        "The stage whose clock runs on a case: accept, verify, file, dispatch, handling, \
         check, callback or close.";
    cityops_domain::evaluation::Level => EvaluationLevel:
        "What an evaluation ranks: the areas of a level (district, street, community, grid), \
         the responsible units (unit), or members of staff in their positions (position).";
    cityops_domain::evaluation::Counter => EvaluationCounter:
        "One of the counts the evaluation sums (上报数 reported, 立案数 filed, 处置数 handled, \
         结案数 closed...), each from the timeline steps of a period's days.";
    cityops_domain::evaluation::Indicator => EvaluationIndicator:
        "One of the standard indicators (GB/T 30428.4): a rate from 0 to 1, or a count or \
         share scored on the configured bands (0 to 1).";
    cityops_domain::watch::EscalationTarget => EscalationTarget:
        "Where the overdue watch escalated a case: the head of its unit (unit_head, 催办) or \
         the next-level center (next_center).";
    cityops_domain::emergency::Hazard => Hazard:
        "What an early warning (预警) is about: rainstorm (暴雨), typhoon (台风), \
         high_temperature (高温), cold_wave (寒潮), fog (大雾), flood (洪水), gale (大风), \
         thunderstorm (雷电), snowstorm (暴雪), haze (霾) or other.";
    cityops_domain::emergency::Severity => Severity:
        "An incident's severity (事件分级): I 特别重大, II 重大, III 较大, IV 一般.";
    cityops_domain::emergency::ResponseLevel => ResponseLevel:
        "The emergency response level (应急响应) a leader decides: 1 (一级, the highest) to 4 \
         (四级).";
    cityops_domain::emergency::IncidentKind => IncidentKind:
        "What kind of emergency: natural_disaster (自然灾害), accident (事故灾难), \
         public_health (公共卫生事件) or social_security (社会安全事件).";
    cityops_domain::emergency::IncidentState => IncidentState:
        "Whether an incident's response runs (active) or has been stood down (stood_down).";
    cityops_domain::emergency::TaskState => TaskState:
        "Where a unit's joint task stands: assigned, accepted, in_progress, done, or unable \
         (the unit cannot do it, and said why).";
    cityops_domain::emergency::ResourceKind => ResourceKind:
        "A kind of response resource: pump_truck (排水泵车), team (抢险队伍), sandbags, \
         generator, vehicle or other.";
    cityops_domain::emergency::LinkKind => LinkKind:
        "What an incident links to: an alarm or a case.";
    cityops_domain::emergency::ResourceState => ResourceState:
        "What a response resource is doing: standby, en_route, deployed or released.";
    cityops_domain::DeadlineMark => DeadlineMark:
        "How close a running stage is to its deadline: on_time, due (yellow: the configured \
         share of its term used) or overdue (red).";
    cityops_domain::TermUnit => TermUnit:
        "The unit of a stage's time limit: minutes or hours of natural time, or working_hours \
         or working_days on the city's working calendar.";
    cityops_domain::CallbackOutcome => CallbackOutcome:
        "What came of a call-back attempt: the caller was reached, did not answer, or the \
         number was wrong.";
    cityops_domain::Satisfaction => Satisfaction:
        "A reached caller's verdict: satisfied (满意), basically satisfied (基本满意) or \
         unsatisfied (不满意, the case goes back for rework).";
    cityops_domain::appeal::AppealGround => AppealGround:
        "What a unit's appeal (申诉) disputes: late_handling (处置超时: its handling counted late \
         or overdue) or rework (返工: a failed check counted against it).";
    cityops_domain::TicketKind => TicketKind:
        "What a caller wants (工单类型): request (求助), complaint (投诉), enquiry (咨询, \
         answered on the call, never a case), suggestion (建议), praise (表扬) or other.";
    cityops_domain::case::RejectReason => RejectReason:
        "Why a report was not accepted: invalid, or a duplicate of another case.";
    cityops_domain::AreaLevel => AreaLevel:
        "The level of an area in the division tree, from the city down to the community.";
    cityops_domain::UnitKind => UnitKind:
        "The kind of a unit: an operations center (city, district, street), a kind of \
         responsible unit (a district department, a utility, a street office) that default \
         proposals send cases to, or `other` (reached through the responsibility matrix only).";
    cityops_domain::Organization => UnitOrganization:
        "What sort of body a unit is: an operations center, a government department, a \
         public utility, a contractor, a street office, a town government or other.";
    cityops_domain::CategoryKind => CategoryKind:
        "Whether a category is of components (部件, things in the street) or events (事件).";
    cityops_domain::Urgency => Urgency:
        "A category's urgency; urgent classes have shorter deadlines.";
    cityops_domain::form::FieldKind => FieldKind:
        "What an extra field of a class holds: text, a number, one of its choices, a date \
         (YYYY-MM-DD) or a photo (one of the case's attachments).";
    cityops_domain::ComponentStatus => ComponentStatus:
        "The state of a census component: in use, damaged, missing or removed.";
    cityops_domain::telemetry::WarningLevel => WarningLevel:
        "A warning level of the emergency law, least to most severe: blue, yellow, orange, red.";
    cityops_domain::telemetry::AlarmState => AlarmState:
        "An alarm's state: active or cleared, and acknowledged or not.";
    cityops_domain::telemetry::DeviceStatus => DeviceStatus:
        "A device's status: active, under maintenance (readings kept, no alarms) or retired \
         (readings refused).";
    cityops_geo::Crs => Crs:
        "The coordinate system of a location a client sends: wgs84 (GPS), gcj02 (AMap, \
         Tencent) or bd09 (Baidu). CityOps stores and answers WGS-84.";
    cityops_store::telemetry::Resolution => Resolution:
        "The bucket of a downsampled history: a minute or an hour.";
    cityops_telemetry::payload::Reason => ReadingRejection:
        "Why a reading was refused (and kept as a dead letter).";
    cityops_telemetry::AlarmChange => AlarmChange:
        "What happened to an alarm: raised, reopened within the flap window, repeated, \
         cleared, or acknowledged by a person.";
    CommandKind => CaseAction:
        "A workflow command by the name the timeline records (`request_extension`): a \
         timeline entry's `action`.";
    crate::routes::api_keys::Permission => ApiKeyPermission:
        "What an API key may do: reads need `read`, new reports `report`, readings \
         `telemetry`, any other change `write`.";
}

/// Any workflow command by the name clients use (`request-extension`), whatever its channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientName(pub CommandKind);

impl Vocabulary for ClientName {
    const SCHEMA: &'static str = "CommandWireName";
    const DESCRIPTION: &'static str =
        "Any workflow command by the name clients use (`request-extension`), including those \
         issued by reporting, uploading, rating or by CityOps itself (see CaseCommandName for \
         the ones a client names in the URL).";

    fn all() -> impl Iterator<Item = Self> {
        CommandKind::ALL.into_iter().map(ClientName)
    }

    fn wire_name(self) -> &'static str {
        self.0.wire_name()
    }
}

/// Any workflow command by the name clients use; see [`ClientName`].
pub type CommandWireName = Wire<ClientName>;

impl Vocabulary for crate::views::UrlCommand {
    const SCHEMA: &'static str = "CaseCommandName";
    const DESCRIPTION: &'static str =
        "A workflow command a client issues by name on a case; GET /api/v1/workflow gives \
         each one's roles and states.";

    fn all() -> impl Iterator<Item = Self> {
        crate::views::UrlCommand::all()
    }

    fn wire_name(self) -> &'static str {
        self.as_str()
    }
}

/// A workflow command a client names in the URL; see [`crate::views::UrlCommand`].
pub type CaseCommandName = Wire<crate::views::UrlCommand>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value's wire name is the string serde writes for it in stored and domain JSON,
    /// so a view that held `as_str()` or serde's name before writes the same bytes now.
    fn wire_names_are_serde_names<T: Vocabulary + Serialize>() {
        let mut seen = std::collections::HashSet::new();
        for value in T::all() {
            let serde = serde_json::to_value(value).unwrap();
            assert_eq!(serde, serde_json::json!(value.wire_name()), "{}", T::SCHEMA);
            assert_eq!(
                serde_json::to_value(Wire(value)).unwrap(),
                serde,
                "{}",
                T::SCHEMA
            );
            assert!(
                seen.insert(value.wire_name()),
                "{} twice",
                value.wire_name()
            );
        }
        assert!(!seen.is_empty());
    }

    #[test]
    fn the_domains_vocabularies_are_written_as_serde_writes_them() {
        wire_names_are_serde_names::<cityops_domain::Role>();
        wire_names_are_serde_names::<cityops_domain::CaseState>();
        wire_names_are_serde_names::<cityops_domain::Source>();
        wire_names_are_serde_names::<cityops_domain::case::Stage>();
        wire_names_are_serde_names::<cityops_domain::case::RejectReason>();
        wire_names_are_serde_names::<cityops_domain::TicketKind>();
        wire_names_are_serde_names::<cityops_domain::AreaLevel>();
        wire_names_are_serde_names::<cityops_domain::UnitKind>();
        wire_names_are_serde_names::<cityops_domain::Organization>();
        wire_names_are_serde_names::<cityops_domain::CategoryKind>();
        wire_names_are_serde_names::<cityops_domain::Urgency>();
        wire_names_are_serde_names::<cityops_domain::form::FieldKind>();
        wire_names_are_serde_names::<cityops_domain::ComponentStatus>();
        wire_names_are_serde_names::<cityops_domain::telemetry::WarningLevel>();
        wire_names_are_serde_names::<cityops_domain::telemetry::AlarmState>();
        wire_names_are_serde_names::<cityops_domain::telemetry::DeviceStatus>();
        wire_names_are_serde_names::<cityops_store::telemetry::Resolution>();
        wire_names_are_serde_names::<cityops_domain::emergency::Hazard>();
        wire_names_are_serde_names::<cityops_domain::emergency::Severity>();
        wire_names_are_serde_names::<cityops_domain::emergency::ResponseLevel>();
        wire_names_are_serde_names::<cityops_domain::emergency::IncidentKind>();
        wire_names_are_serde_names::<cityops_domain::emergency::IncidentState>();
        wire_names_are_serde_names::<cityops_domain::emergency::TaskState>();
        wire_names_are_serde_names::<cityops_domain::emergency::ResourceKind>();
        wire_names_are_serde_names::<cityops_domain::emergency::ResourceState>();
        wire_names_are_serde_names::<cityops_domain::emergency::LinkKind>();
    }

    #[test]
    fn a_wire_value_serialises_to_its_wire_name_and_describes_every_value() {
        assert_eq!(
            serde_json::to_string(&Wire(cityops_domain::Role::DataSteward)).unwrap(),
            "\"data_steward\""
        );
        assert_eq!(
            serde_json::to_string(&Wire(ClientName(CommandKind::RequestExtension))).unwrap(),
            "\"request-extension\""
        );
        assert_eq!(
            serde_json::to_string(&Wire(CommandKind::RequestExtension)).unwrap(),
            "\"request_extension\""
        );
        let schema = serde_json::to_value(<Role as PartialSchema>::schema()).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["enum"].as_array().unwrap().len(), 12);
        assert_eq!(<AreaLevel as ToSchema>::name(), "AreaLevel");
    }
}
