//! Prometheus metrics, kept in a registry owned by the app state (no global recorder).

use prometheus_client::encoding::{text::encode, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    /// `account` (one account failing from anywhere) or `address` (one address failing
    /// on any accounts).
    pub scope: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DutyLabels {
    pub duty: String,
}

impl DutyLabels {
    pub fn of(duty: crate::duty::Duty) -> DutyLabels {
        DutyLabels {
            duty: duty.as_str().to_owned(),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NodeLabels {
    pub holder: String,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub cases: Family<StateLabels, Gauge>,
    pub workflow_commands: Family<StateLabels, Counter>,
    pub sign_in_alerts: Family<AlertLabels, Counter>,
    /// Open cases in this node's index for likely duplicates; -1 while it is filled.
    pub open_cases_indexed: Gauge,
    /// 1 for each duty this node holds, 0 for one it takes part in without holding.
    pub duty_held: Family<DutyLabels, Gauge>,
    /// Rounds of each duty this node ran.
    pub duty_runs: Family<DutyLabels, Counter>,
    /// This node's name as a holder of duties, always 1 (to join the others on).
    pub node: Family<NodeLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::with(|_| {})
    }

    /// A registry that others (the telemetry pipeline) add their metrics to.
    pub fn with(extra: impl FnOnce(&mut Registry)) -> Metrics {
        let mut registry = Registry::with_prefix("cityops");
        extra(&mut registry);
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method and status",
            http_requests.clone(),
        );
        let cases = Family::<StateLabels, Gauge>::default();
        registry.register("cases", "Cases in the store, by state", cases.clone());
        let workflow_commands = Family::<StateLabels, Counter>::default();
        registry.register(
            "workflow_commands",
            "Workflow commands committed, by resulting state",
            workflow_commands.clone(),
        );
        let sign_in_alerts = Family::<AlertLabels, Counter>::default();
        registry.register(
            "sign_in_alerts",
            "Alerts on sustained failed sign-ins, by what failed: an account or an address",
            sign_in_alerts.clone(),
        );
        let open_cases_indexed = Gauge::default();
        registry.register(
            "open_cases_indexed",
            "Open cases of the last two weeks in this node's index for likely duplicates; -1 while it is filled",
            open_cases_indexed.clone(),
        );
        let duty_held = Family::<DutyLabels, Gauge>::default();
        registry.register(
            "duty_held",
            "Whether this node holds a duty (1) or only stands by for it (0)",
            duty_held.clone(),
        );
        let duty_runs = Family::<DutyLabels, Counter>::default();
        registry.register(
            "duty_runs",
            "Rounds of each duty this node ran",
            duty_runs.clone(),
        );
        let node = Family::<NodeLabels, Gauge>::default();
        registry.register(
            "node",
            "This node's name as a holder of duties (always 1)",
            node.clone(),
        );
        Metrics {
            duty_held,
            duty_runs,
            node,
            open_cases_indexed,
            registry,
            sign_in_alerts,
            http_requests,
            cases,
            workflow_commands,
        }
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}
