//! The demo city: Shanghai's real division tree and a few hundred realistic cases in every
//! state of the workflow, reported over the past week, with a user for every role.

use anyhow::{Context, Result};
use chrono::{DateTime, Duration, Utc};
use cityops_domain::case::RejectReason;
use cityops_domain::unit::Unit;
use cityops_domain::{
    decide, report, workflow, Actor, Area, AreaCode, AreaLevel, CaseCommand, CategoryCatalog,
    CategoryCode, CommandKind, FiledClass, Location, NewReport, Role, Source,
};
use cityops_store::{AreaFilter, Store};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Deserialize;

use crate::reference;
use crate::{add_user, NewUser};

const REPORTS: &str = include_str!("../../../data/demo/reports.toml");
const KNOWLEDGE: &str = include_str!("../../../data/demo/knowledge.toml");

#[derive(Deserialize)]
struct KnowledgeFile {
    article: Vec<cityops_domain::knowledge::ArticleDraft>,
}

/// Writes the demo's knowledge base into a store that has no article yet; returns how many.
pub async fn seed_knowledge(store: &dyn Store) -> Result<usize> {
    if !store.articles().await?.is_empty() {
        return Ok(0);
    }
    let file: KnowledgeFile = toml::from_str(KNOWLEDGE).context("data/demo/knowledge.toml")?;
    let count = file.article.len();
    for draft in file.article {
        let article = cityops_domain::knowledge::Article {
            id: uuid::Uuid::now_v7().to_string(),
            draft: draft.checked()?,
            version: 1,
            updated_by: "system".into(),
            updated_at: Utc::now(),
        };
        store.create_article(&article).await?;
    }
    Ok(count)
}
pub const DEMO_PASSWORD: &str = "cityops-demo";

#[derive(Deserialize)]
struct ReportTexts {
    roads: Vec<String>,
    report: Vec<ReportText>,
}

#[derive(Deserialize)]
struct ReportText {
    category: String,
    source: String,
    text: String,
}

/// The demo sign-ins: (username, display name, role, unit, scope).
pub const DEMO_USERS: [(&str, &str, Role, Option<&str>, &str); 15] = [
    ("inspector", "王监督员", Role::Inspector, None, "310101"),
    (
        "operator",
        "李受理员",
        Role::Operator,
        Some("C-310000"),
        "310000",
    ),
    (
        "shiftlead",
        "张值班长",
        Role::ShiftLead,
        Some("C-310000"),
        "310000",
    ),
    (
        "dispatcher",
        "陈派遣员",
        Role::Dispatcher,
        Some("C-310000"),
        "310000",
    ),
    // District and street dispatchers, to try escalation (street -> district -> city).
    (
        "hpdispatch",
        "黄派遣员（黄浦区中心）",
        Role::Dispatcher,
        Some("C-310101"),
        "310101",
    ),
    (
        "njdispatch",
        "南派遣员（南京东路街道分中心）",
        Role::Dispatcher,
        Some("C-310101002"),
        "310101002",
    ),
    (
        "handler",
        "赵处置员（黄浦区城管执法局）",
        Role::UnitHandler,
        Some("310101-CGZF"),
        "310101",
    ),
    (
        "water",
        "周处置员（黄浦区自来水公司）",
        Role::UnitHandler,
        Some("310101-ZLS"),
        "310101",
    ),
    // The joint response's units (联勤联动): Huangpu's water authority (drainage) and the
    // Nanjing East Road street office, which the rainstorm plan gives tasks.
    (
        "drainage",
        "钱处置员（黄浦区水务局）",
        Role::UnitHandler,
        Some("310101-SWJ"),
        "310101",
    ),
    (
        "street",
        "孔处置员（南京东路街道办事处）",
        Role::UnitHandler,
        Some("310101002-JDB"),
        "310101002",
    ),
    (
        "leader",
        "孙主任",
        Role::CenterLeader,
        Some("C-310000"),
        "310000",
    ),
    (
        "evaluator",
        "吴考评员",
        Role::Evaluator,
        Some("C-310000"),
        "310000",
    ),
    ("admin", "系统管理员", Role::Admin, None, "310000"),
    ("auditor", "郑审计员", Role::Auditor, None, "310000"),
    ("steward", "冯数据管理员", Role::DataSteward, None, "310000"),
];

/// Seeds the demo city into an empty store; does nothing when cases already exist.
pub async fn seed(store: &dyn Store, cases: usize) -> Result<usize> {
    reference::bootstrap(store).await?;
    for (username, name, role, unit, scope) in DEMO_USERS {
        if store.user_by_name(username).await?.is_none() {
            add_user(
                store,
                NewUser {
                    username,
                    display_name: name,
                    password: DEMO_PASSWORD,
                    role,
                    unit,
                    scope,
                },
            )
            .await?;
        }
    }
    let city = AreaCode::parse(reference::SHANGHAI)?;
    let existing = store
        .cases(&cityops_store::CaseQuery {
            limit: 1,
            ..cityops_store::CaseQuery::new(city, Utc::now())
        })
        .await?;
    if !existing.cases.is_empty() {
        return Ok(0);
    }
    assign_demo_grids(store).await?;
    let texts: ReportTexts = toml::from_str(REPORTS).context("data/demo/reports.toml")?;
    let catalog = store.catalog().await?.context("no category catalogue")?;
    let cast = Cast::load(store).await?;
    let communities = store
        .areas(&AreaFilter {
            parent: None,
            level: Some(AreaLevel::Community),
        })
        .await?;
    let geography = reference::shanghai_geography()?;
    let mut rng = StdRng::seed_from_u64(20261125);
    let now = Utc::now();
    for _ in 0..cases {
        let text = texts.report.choose(&mut rng).context("no report texts")?;
        let place = Place::random(&geography, &communities, &mut rng)?;
        seed_case(
            store,
            &cast,
            &catalog,
            &texts.roads,
            text,
            &place,
            &mut rng,
            now,
        )
        .await?;
    }
    Ok(cases)
}

/// The street whose responsibility grids the demo's inspector patrols (南京东路街道).
const DEMO_INSPECTOR_STREET: &str = "310101002";

/// Gives the demo's inspector the responsibility grids of one street, so that reports there
/// go to them and what others report there counts as missed.
async fn assign_demo_grids(store: &dyn Store) -> Result<()> {
    let Some(user) = store.user_by_name("inspector").await? else {
        return Ok(());
    };
    let geography = reference::shanghai_geography()?;
    let grids: std::collections::BTreeSet<&str> = geography
        .grids
        .iter()
        .filter(|g| g.street == DEMO_INSPECTOR_STREET)
        .map(|g| g.responsibility_grid.as_str())
        .collect();
    for grid in grids {
        let inspector = cityops_domain::GridInspector {
            user_id: user.id.clone(),
            username: user.username.clone(),
            grid: grid.to_owned(),
        };
        store.assign_grid(grid, Some(&inspector)).await?;
    }
    Ok(())
}

/// The demo's staff as actors: the seeded and live steps are taken by the demo accounts, so
/// that the evaluation rates people who can sign in. A unit handler of a unit no demo account
/// works for acts under a name of the role.
struct Cast {
    staff: Vec<Actor>,
    /// The inspectors assigned to responsibility grids, by grid.
    inspectors: std::collections::HashMap<String, cityops_domain::GridInspector>,
}

impl Cast {
    async fn load(store: &dyn Store) -> Result<Cast> {
        let mut staff = Vec::new();
        for (username, ..) in DEMO_USERS {
            if let Some(user) = store.user_by_name(username).await? {
                staff.push(Actor {
                    user_id: user.id,
                    username: user.username,
                    role: user.role,
                    unit: user.unit,
                    scope: user.scope,
                });
            }
        }
        let inspectors = store
            .grid_inspectors()
            .await?
            .into_iter()
            .map(|i| (i.grid.clone(), i))
            .collect();
        Ok(Cast { staff, inspectors })
    }

    /// The first demo account of `role` whose jurisdiction holds `area` (a unit handler: of
    /// `unit`); city-wide ones come first in `DEMO_USERS`.
    fn actor(&self, role: Role, unit: Option<String>, area: &AreaCode) -> Actor {
        let found = self.staff.iter().find(|a| {
            a.role == role
                && a.scope.contains(area)
                && (role != Role::UnitHandler || a.unit.is_some() && a.unit == unit)
        });
        match found {
            Some(actor) => Actor {
                unit: if role == Role::UnitHandler {
                    unit
                } else {
                    actor.unit.clone()
                },
                ..actor.clone()
            },
            None => seeding_actor(role, unit),
        }
    }
}

fn seeding_actor(role: Role, unit: Option<String>) -> Actor {
    Actor {
        user_id: format!("demo-{}", role.as_str()),
        username: format!("demo.{}", role.as_str()),
        role,
        unit,
        scope: AreaCode::parse(reference::SHANGHAI).expect("valid code"),
    }
}

/// A demo report of `text` at `place`, as an inspector (patrol texts) or an operator would file it.
fn demo_report(
    cast: &Cast,
    roads: &[String],
    text: &ReportText,
    place: &Place,
    rng: &mut StdRng,
    at: DateTime<Utc>,
) -> Result<(cityops_domain::Case, cityops_domain::TimelineEvent)> {
    let road = roads.choose(rng).cloned().unwrap_or_default();
    let source = Source::parse(&text.source).unwrap_or(Source::Inspector);
    let role = if source == Source::Inspector {
        Role::Inspector
    } else {
        Role::Operator
    };
    Ok(report(
        uuid::Uuid::now_v7().to_string(),
        NewReport {
            fields: Default::default(),
            source,
            description: text
                .text
                .replace("{road}", &road)
                .replace("{community}", &place.community.name),
            address: Some(road),
            location: Location::new(place.lon, place.lat)?,
            location_accuracy_m: None,
            area: place.community.code.clone(),
            category_hint: CategoryCode::parse(&text.category).ok(),
            component_id: None,
            reporter: None,
            unit_grid: Some(place.grid.clone()),
            hotline_ticket: None,
            intake_terms: None,
            grid_inspector: cast
                .inspectors
                .get(&place.responsibility_grid)
                .cloned()
                .map(Box::new),
            call: None,
        },
        &cast.actor(role, None, &place.community.code),
        at,
    )?)
}

/// Where a demo report comes from: a unit grid of a random community of the generated city.
struct Place {
    community: Area,
    grid: String,
    responsibility_grid: String,
    lon: f64,
    lat: f64,
}

impl Place {
    fn random(
        geography: &cityops_geo::Geography,
        communities: &[Area],
        rng: &mut StdRng,
    ) -> Result<Place> {
        use geo::Centroid;
        let community = communities.choose(rng).context("no communities")?;
        let grids: Vec<&cityops_geo::UnitGrid> = geography
            .grids_in_community(community.code.as_str())
            .collect();
        let grid = grids
            .choose(rng)
            .context("a community without unit grids")?;
        let centre = grid.shape.centroid().context("an empty unit grid")?;
        // The centroid of an oddly clipped cell can fall outside it: record the grid the
        // point really lies in when it is of the same community.
        let located = geography
            .locate(centre.x(), centre.y())
            .filter(|g| g.community == community.code.as_str());
        let grid = located.unwrap_or(*grid);
        Ok(Place {
            community: community.clone(),
            grid: grid.code.clone(),
            responsibility_grid: grid.responsibility_grid.clone(),
            lon: centre.x(),
            lat: centre.y(),
        })
    }
}

#[allow(clippy::too_many_arguments)]
async fn seed_case(
    store: &dyn Store,
    cast: &Cast,
    catalog: &CategoryCatalog,
    roads: &[String],
    text: &ReportText,
    place: &Place,
    rng: &mut StdRng,
    now: DateTime<Utc>,
) -> Result<()> {
    let community = &place.community;
    let code = CategoryCode::parse(&text.category)?;
    let class = catalog
        .get(&code)
        .context("demo text with unknown category")?;
    let mut at = now - Duration::minutes(rng.gen_range(30..7 * 24 * 60));
    let (case, event) = demo_report(cast, roads, text, place, rng, at)?;
    let source = case.source;
    let mut case = store.insert_case(case, event).await?;
    let district = community
        .code
        .district()
        .context("community without district")?;
    let unit_code = Unit::default_code_for(class.unit_kind, &community.code)
        .unwrap_or_else(|| format!("{district}-CGZF"));
    let unit = store
        .unit(&unit_code)
        .await?
        .context("default unit missing")?;
    let filed = FiledClass::from_category(class);
    let here = &community.code;
    let operator = cast.actor(Role::Operator, None, here);
    let lead = cast.actor(Role::ShiftLead, None, here);
    let inspector = cast.actor(Role::Inspector, None, here);
    let handler = cast.actor(Role::UnitHandler, Some(unit.code.clone()), here);
    // The detours this case takes from the happy path, drawn in a fixed order so that the
    // seed gives the same city every time.
    let rejected = rng.gen_bool(0.05);
    let self_handled = !rejected && source == Source::Inspector && rng.gen_bool(0.08);
    let detours = !rejected && !self_handled;
    let returned = detours && rng.gen_bool(0.06);
    let extended = detours && rng.gen_bool(0.08);
    let parked = detours && rng.gen_bool(0.04);
    let reworked = detours && rng.gen_bool(0.1);
    let mut plan: Vec<(CaseCommand, Actor)> = Vec::new();
    if rejected {
        plan.push((
            CaseCommand::Reject {
                reason: RejectReason::Invalid,
                duplicate_of: None,
                opinion: Some("描述不清，无法定位".into()),
            },
            operator.clone(),
        ));
    }
    let happy_path = if rejected {
        Vec::new()
    } else {
        workflow::happy_path(source)
    };
    for step in happy_path {
        match step.command {
            CommandKind::File if self_handled => {
                plan.push((
                    CaseCommand::SelfHandle {
                        opinion: "监督员现场自行处置完毕".into(),
                    },
                    inspector.clone(),
                ));
                break;
            }
            CommandKind::Dispatch if returned => {
                plan.push((
                    happy_command(CommandKind::Dispatch, Some(&filed), Some(&unit))?,
                    cast.actor(Role::Dispatcher, None, here),
                ));
                plan.push((
                    CaseCommand::Return {
                        reason: "不属于本单位职责范围".into(),
                    },
                    handler.clone(),
                ));
            }
            CommandKind::Check if reworked => {
                plan.push((
                    CaseCommand::Check {
                        passed: false,
                        opinion: Some("现场仍未处置到位，返工".into()),
                    },
                    inspector.clone(),
                ));
                plan.push((CaseCommand::Sign, handler.clone()));
                plan.push((
                    CaseCommand::Feedback {
                        opinion: "返工完成".into(),
                        attachments: vec![],
                    },
                    handler.clone(),
                ));
                plan.push((CaseCommand::SendCheck { opinion: None }, operator.clone()));
            }
            _ => {}
        }
        let actor = match step.role {
            Role::UnitHandler => handler.clone(),
            role => cast.actor(role, None, here),
        };
        plan.push((
            happy_command(step.command, Some(&filed), Some(&unit))?,
            actor,
        ));
        if step.command == CommandKind::Sign && extended {
            plan.push((
                CaseCommand::RequestExtension {
                    until: at + Duration::days(10),
                    reason: "需协调管线单位，申请延期".into(),
                },
                handler.clone(),
            ));
            plan.push((
                CaseCommand::DecideExtension {
                    approve: true,
                    opinion: Some("同意延期".into()),
                },
                lead.clone(),
            ));
        }
        if step.command == CommandKind::Sign && parked {
            plan.push((
                CaseCommand::RequestPark {
                    reason: "涉及规划调整，暂缓处置".into(),
                },
                handler.clone(),
            ));
            plan.push((
                CaseCommand::DecidePark {
                    approve: true,
                    opinion: None,
                },
                lead.clone(),
            ));
            plan.push((
                CaseCommand::Resume {
                    opinion: Some("条件具备，恢复处置".into()),
                },
                lead.clone(),
            ));
        }
    }
    // How far along the workflow this case got: every prefix of its plan is equally likely,
    // with extra weight on finished cases, so every state has cases.
    let steps = rng.gen_range(0..plan.len() + 6).min(plan.len());
    let mut plan: Vec<_> = plan.into_iter().take(steps).collect();
    if rng.gen_bool(0.05) && !plan.is_empty() {
        plan.pop();
        plan.push((
            CaseCommand::Cancel {
                reason: "重复立案，作废".into(),
            },
            lead.clone(),
        ));
    }
    if rng.gen_bool(0.04) {
        plan.push((
            CaseCommand::Supervise {
                opinion: "请相关单位加快处置".into(),
                term: Some(cityops_domain::Term {
                    amount: 1,
                    unit: cityops_domain::TermUnit::WorkingDays,
                }),
                deadline: None,
            },
            cast.actor(Role::CenterLeader, None, here),
        ));
    }
    for (command, actor) in plan {
        at = (at + Duration::minutes(rng.gen_range(5..90))).min(now);
        let Ok((next, event)) = decide(&case, command, &actor, at) else {
            break;
        };
        store.update_case(&next, &event, None).await?;
        case = next;
    }
    Ok(())
}

/// The command a step of the happy path issues in the demo (and the case benchmark), filing
/// under `class` and dispatching to `unit`.
pub fn happy_command(
    kind: CommandKind,
    class: Option<&FiledClass>,
    unit: Option<&Unit>,
) -> Result<CaseCommand> {
    Ok(match kind {
        CommandKind::Accept => CaseCommand::Accept { opinion: None },
        CommandKind::RequestVerification => CaseCommand::RequestVerification {
            opinion: Some("请监督员现场核实".into()),
        },
        CommandKind::Verify => CaseCommand::Verify {
            exists: true,
            opinion: Some("现场核实属实".into()),
        },
        CommandKind::File => CaseCommand::File {
            fields: Default::default(),
            class: class.context("filing needs a class")?.clone(),
            opinion: None,
        },
        CommandKind::Dispatch => {
            let unit = unit.context("dispatching needs a unit")?;
            CaseCommand::Dispatch {
                unit: unit.code.clone(),
                unit_jurisdiction: unit.jurisdiction.clone(),
                opinion: Some("请按时处置".into()),
            }
        }
        CommandKind::Sign => CaseCommand::Sign,
        CommandKind::Feedback => CaseCommand::Feedback {
            opinion: "已按要求处置完毕".into(),
            attachments: vec![],
        },
        CommandKind::SendCheck => CaseCommand::SendCheck { opinion: None },
        CommandKind::Check => CaseCommand::Check {
            passed: true,
            opinion: Some("核查通过".into()),
        },
        CommandKind::StartCallback => CaseCommand::StartCallback {
            attempts_allowed: cityops_domain::workflow::DEFAULT_CALLBACK_ATTEMPTS,
        },
        CommandKind::Callback => CaseCommand::Callback {
            outcome: cityops_domain::CallbackOutcome::Reached,
            satisfaction: Some(cityops_domain::Satisfaction::Satisfied),
            opinion: Some("市民表示满意".into()),
            report: None,
        },
        CommandKind::Close => CaseCommand::Close {
            opinion: Some("结案".into()),
        },
        other => anyhow::bail!("the happy path has no {other} step"),
    })
}

/// Keeps the demo city alive: every few seconds a new report comes in somewhere in Shanghai
/// and an open case moves one step along the workflow, through the store and onto the live
/// stream, as real users would.
pub async fn live_city(state: cityops_api::AppState, every: std::time::Duration) -> Result<()> {
    let store = state.store.clone();
    let texts: ReportTexts = toml::from_str(REPORTS).context("data/demo/reports.toml")?;
    let catalog = store.catalog().await?.context("no category catalogue")?;
    let cast = Cast::load(store.as_ref()).await?;
    let communities = store
        .areas(&AreaFilter {
            parent: None,
            level: Some(AreaLevel::Community),
        })
        .await?;
    let geography = reference::shanghai_geography()?;
    let mut rng = StdRng::from_entropy();
    loop {
        let jitter = rng.gen_range(0.5..1.5);
        tokio::time::sleep(every.mul_f64(jitter)).await;
        let now = Utc::now();
        if rng.gen_bool(0.5) {
            let text = texts.report.choose(&mut rng).context("no report texts")?;
            let place = Place::random(&geography, &communities, &mut rng)?;
            if live_report(
                store.as_ref(),
                &cast,
                &texts.roads,
                text,
                &place,
                &mut rng,
                now,
            )
            .await?
            .is_some()
            {
                state.outbox_written();
            }
        } else if live_step(store.as_ref(), &cast, &catalog, &mut rng, now)
            .await?
            .is_some()
        {
            state.outbox_written();
        }
    }
}

async fn live_report(
    store: &dyn Store,
    cast: &Cast,
    roads: &[String],
    text: &ReportText,
    place: &Place,
    rng: &mut StdRng,
    now: DateTime<Utc>,
) -> Result<Option<cityops_domain::Case>> {
    let (case, event) = demo_report(cast, roads, text, place, rng, now)?;
    Ok(Some(store.insert_case(case, event).await?))
}

/// Moves a random open case one step forward, as the role responsible for that step.
async fn live_step(
    store: &dyn Store,
    cast: &Cast,
    catalog: &CategoryCatalog,
    rng: &mut StdRng,
    now: DateTime<Utc>,
) -> Result<Option<(cityops_domain::Case, CommandKind)>> {
    use cityops_domain::CaseState;
    let city = AreaCode::parse(reference::SHANGHAI)?;
    let open = cityops_store::CaseQuery {
        states: CaseState::OPEN.to_vec(),
        limit: 100,
        ..cityops_store::CaseQuery::new(city, now)
    };
    let page = store.cases(&open).await?;
    let Some(case) = page.cases.choose(rng) else {
        return Ok(None);
    };
    let hint = case
        .category_hint
        .clone()
        .or_else(|| case.category.as_ref().map(|c| c.code.clone()));
    let class = hint.as_ref().and_then(|code| catalog.get(code));
    let unit = match (class, &case.unit) {
        (_, Some(unit)) => store.unit(unit).await?,
        (Some(class), None) => match Unit::default_code_for(class.unit_kind, &case.area) {
            Some(code) => store.unit(&code).await?,
            None => None,
        },
        (None, None) => None,
    };
    let class = class.map(FiledClass::from_category);
    let (command, actor) = match workflow::next_happy_step(case) {
        Some(step) => {
            // Filing needs a class and dispatching a unit; without them the case waits.
            let Ok(command) = happy_command(step.command, class.as_ref(), unit.as_ref()) else {
                return Ok(None);
            };
            let unit_code = unit
                .as_ref()
                .filter(|_| step.role == Role::UnitHandler)
                .map(|u| u.code.clone());
            (command, cast.actor(step.role, unit_code, &case.area))
        }
        // Parked cases are off the happy path: the shift lead resumes them.
        None if case.state == CaseState::Suspended => (
            CaseCommand::Resume { opinion: None },
            cast.actor(Role::ShiftLead, None, &case.area),
        ),
        None => return Ok(None),
    };
    let action = command.kind();
    match decide(case, command, &actor, now) {
        Ok((next, event)) => match store.update_case(&next, &event, None).await {
            Ok(()) => Ok(Some((next, action))),
            // Someone (a real user of the demo) changed it first: fine, try another next time.
            Err(cityops_store::StoreError::Conflict(_)) => Ok(None),
            Err(other) => Err(other.into()),
        },
        Err(_) => Ok(None),
    }
}
