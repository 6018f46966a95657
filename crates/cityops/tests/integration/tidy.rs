//! House rules, checked by `cargo test` so they cannot drift. Each rule lists every place
//! that breaks it, not only the first. Rules about code read the sources as Rust (syn): a
//! rule about `std::env` sees `use std::{env, fs}` and a path inside a macro call, and never
//! a comment or a string that merely mentions it.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// The crates of the product, bottom up; `cityops` is the binary that ships.
const PRODUCT: [&str; 6] = [
    "cityops-domain",
    "cityops-geo",
    "cityops-store",
    "cityops-telemetry",
    "cityops-api",
    "cityops",
];

/// The product's libraries: they never read the environment.
const LIBRARIES: [&str; 5] = [
    "cityops-domain",
    "cityops-geo",
    "cityops-store",
    "cityops-telemetry",
    "cityops-api",
];

/// Every crate of the workspace, by directory.
fn all_crates() -> Vec<String> {
    names(&workspace().join("crates")).into_iter().collect()
}

fn manifest(name: &str) -> toml::Table {
    let path = workspace().join(format!("crates/{name}/Cargo.toml"));
    toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The names a manifest's table of dependencies lists (`dependencies`, `dev-dependencies`...).
fn listed(table: &toml::Table, kind: &str) -> Vec<String> {
    table
        .get(kind)
        .and_then(|t| t.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

/// What a crate needs to build and run, whatever the platform: not its dev-dependencies.
fn shipped_dependencies(name: &str) -> Vec<String> {
    let manifest = manifest(name);
    let mut all = listed(&manifest, "dependencies");
    all.extend(listed(&manifest, "build-dependencies"));
    for target in manifest
        .get("target")
        .and_then(|t| t.as_table())
        .into_iter()
        .flat_map(|t| t.values())
        .filter_map(|t| t.as_table())
    {
        all.extend(listed(target, "dependencies"));
        all.extend(listed(target, "build-dependencies"));
    }
    all
}

fn every_dependency(name: &str) -> Vec<String> {
    let mut all = shipped_dependencies(name);
    all.extend(listed(&manifest(name), "dev-dependencies"));
    all
}

/// One migration per change, with the same number and name in both dialects.
#[test]
fn sqlite_and_postgres_migrations_stay_in_step() {
    let root = workspace().join("crates/cityops-store/migrations");
    let sqlite = names(&root.join("sqlite"));
    let postgres = names(&root.join("postgres"));
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

/// The domain does no IO: its dependencies are limited to pure data crates.
#[test]
fn the_domain_crate_depends_on_no_io_crates() {
    // Hashing and signatures are computation, not IO: the audit chain is domain logic.
    let allowed = [
        "chrono",
        "serde",
        "thiserror",
        "toml",
        "csv",
        "sha2",
        "hex",
        "ed25519-dalek",
        "foldhash",
        // Pattern matching over text (personal data in free text), no IO either.
        "regex",
        // Snowball's stemmers: computation over words.
        "rust-stemmers",
    ];
    for dependency in shipped_dependencies("cityops-domain") {
        assert!(
            allowed.contains(&dependency.as_str()),
            "cityops-domain must not depend on {dependency}"
        );
    }
}

/// Geometry is pure too: it gets GeoJSON text, never a file.
#[test]
fn the_geo_crate_depends_on_no_io_crates() {
    for dependency in shipped_dependencies("cityops-geo") {
        assert!(
            ["geo", "rand", "rstar", "serde_json", "thiserror"].contains(&dependency.as_str()),
            "cityops-geo must not depend on {dependency}"
        );
    }
}

/// Dependencies point down: domain, geo <- store <- telemetry <- api <- cityops, and beside
/// the product, test support and the benchmarks, which wire the product as it ships.
#[test]
fn crate_dependencies_point_down_only() {
    let layers: Vec<&str> = PRODUCT
        .iter()
        .copied()
        .chain(["cityops-test-support", "cityops-bench"])
        .collect();
    assert_eq!(
        layers
            .iter()
            .map(|c| c.to_string())
            .collect::<BTreeSet<_>>(),
        all_crates().into_iter().collect(),
        "every crate of the workspace has its place in the layers"
    );
    let mut wrong = Vec::new();
    for (level, name) in layers.iter().enumerate() {
        let dependencies = shipped_dependencies(name);
        for above in &layers[level + 1..] {
            if dependencies.iter().any(|d| d == above) {
                wrong.push(format!("{name} depends on {above}"));
            }
        }
    }
    assert!(wrong.is_empty(), "dependencies point up: {wrong:#?}");
}

/// What ships is the product alone: the benchmarks and test support are at most
/// dev-dependencies, so `cargo build --release -p cityops` never builds them.
#[test]
fn no_product_crate_ships_the_benchmarks_or_test_support() {
    let mut wrong = Vec::new();
    for name in PRODUCT {
        for dependency in shipped_dependencies(name) {
            if ["cityops-bench", "cityops-test-support"].contains(&dependency.as_str()) {
                wrong.push(format!("{name} depends on {dependency}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The domain does no IO and reads no clock: callers pass `now`. Its own unit tests
/// (`#[cfg(test)]`) may do as they like.
#[test]
fn the_domain_reads_no_clock_no_files_no_environment_and_runs_no_tasks() {
    let wrong = breaking(&["cityops-domain"], &["src"], |path| {
        starts_with(path, &["std", "fs"])
            || starts_with(path, &["std", "env"])
            || starts_with(path, &["tokio"])
            || reads_the_clock(path)
    });
    assert!(wrong.is_empty(), "the domain does IO: {wrong:#?}");
}

/// Only the API crate knows HTTP: nothing else lists or names axum, tower or utoipa.
#[test]
fn only_the_api_crate_knows_http() {
    const HTTP: [&str; 4] = ["axum", "tower", "tower_http", "utoipa"];
    let others: Vec<String> = all_crates()
        .into_iter()
        .filter(|c| c != "cityops-api")
        .collect();
    let mut wrong = Vec::new();
    for name in &others {
        for dependency in every_dependency(name) {
            if HTTP.contains(&dependency.replace('-', "_").as_str()) {
                wrong.push(format!("{name} depends on {dependency}"));
            }
        }
    }
    let others: Vec<&str> = others.iter().map(String::as_str).collect();
    wrong.extend(breaking(&others, &["src", "tests", "benches"], |path| {
        path.first()
            .is_some_and(|root| HTTP.contains(&root.as_str()))
    }));
    assert!(wrong.is_empty(), "HTTP outside cityops-api: {wrong:#?}");
}

/// Only binaries and test support read the environment or install a tracing subscriber.
#[test]
fn libraries_neither_read_the_environment_nor_install_subscribers() {
    let wrong = breaking(&LIBRARIES, &["src"], |path| {
        starts_with(path, &["std", "env"])
            || starts_with(path, &["tracing_subscriber"])
            || path.last().is_some_and(|s| s == "set_global_default")
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Every module says what it is for (and what it must never do) in its first lines.
#[test]
fn every_module_opens_with_a_module_comment() {
    let mut missing = Vec::new();
    for name in all_crates() {
        for file in rust_files(&workspace().join(format!("crates/{name}/src"))) {
            let text = std::fs::read_to_string(&file).unwrap();
            if !text.starts_with("//!") {
                missing.push(relative(&file));
            }
        }
    }
    assert!(missing.is_empty(), "no //! module comment: {missing:#?}");
}

/// Every file or folder of the repository that the documents or the code name
/// (`docs/...`, `data/...`, `scripts/...`, `crates/...`, `web/...`, and any `<name>.md`)
/// exists, from the repository's root, the naming file's folder or `docs/`. `{a,b}` stands
/// for both, `*` and a format placeholder `{name}` for anything.
#[test]
fn every_path_named_in_the_documents_and_the_code_exists() {
    let root = workspace();
    let mentions = regex::Regex::new(
        r"(?:^|[^A-Za-z0-9_./-])((?:docs|data|scripts|crates|web)/[A-Za-z0-9_.*/{},-]*|[A-Za-z0-9_-]+\.md\b)",
    )
    .unwrap();
    let mut missing = BTreeSet::new();
    for file in repository_files(&root) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let bases = [
            root.clone(),
            file.parent().unwrap().into(),
            root.join("docs"),
        ];
        for (number, line) in text.lines().enumerate() {
            for mention in mentions.captures_iter(line) {
                let named = mention[1].trim_end_matches(['.', ',', ':', ';']);
                if !bases.iter().any(|base| named_path_exists(base, named)) {
                    missing.insert(format!("{}:{}: {named}", relative(&file), number + 1));
                }
            }
        }
    }
    assert!(missing.is_empty(), "named but missing: {missing:#?}");
}

/// The rules above see through what a text search would miss.
#[test]
fn the_path_scan_sees_use_groups_aliases_and_macro_bodies_but_not_comments() {
    let paths = paths_named(
        r#"
        //! Mentions std::env and tokio in a comment only.
        use std::{env, fs::read};
        use chrono::Utc as Clock;
        fn f() -> String {
            let _ = "tokio::spawn";
            format!("{}", Clock::now())
        }
        #[cfg(test)]
        mod tests { fn g() { let _ = tokio::spawn(async {}); } }
        "#,
    );
    let paths: BTreeSet<String> = paths.iter().map(|p| p.join("::")).collect();
    assert!(paths.contains("std::env"), "{paths:?}");
    assert!(paths.contains("std::fs::read"), "{paths:?}");
    assert!(paths.contains("chrono::Utc::now"), "{paths:?}");
    assert!(!paths.iter().any(|p| p.starts_with("tokio")), "{paths:?}");
}

/// `path` names a clock: the wall clock (`Utc::now`, `Local::now`, `SystemTime::now`) or
/// the monotonic one (`Instant::now`).
fn reads_the_clock(path: &[String]) -> bool {
    path.windows(2).any(|pair| {
        pair[1] == "now" && ["Utc", "Local", "SystemTime", "Instant"].contains(&pair[0].as_str())
    })
}

fn starts_with(path: &[String], prefix: &[&str]) -> bool {
    path.len() >= prefix.len() && path.iter().zip(prefix).all(|(a, b)| a == b)
}

/// Every place in the crates' `folders` whose named path breaks the rule, as
/// `file: a::b::c`.
fn breaking(crates: &[&str], folders: &[&str], rule: impl Fn(&[String]) -> bool) -> Vec<String> {
    let mut wrong = Vec::new();
    for name in crates {
        for folder in folders {
            let dir = workspace().join(format!("crates/{name}/{folder}"));
            if !dir.is_dir() {
                continue;
            }
            for file in rust_files(&dir) {
                let text = std::fs::read_to_string(&file).unwrap();
                for path in paths_named(&text) {
                    if rule(&path) {
                        wrong.push(format!("{}: {}", relative(&file), path.join("::")));
                    }
                }
            }
        }
    }
    wrong
}

/// Every path a Rust source names outside `#[cfg(test)]` items, as segments: `use` trees
/// flattened, paths in code, attributes and macro calls (whose bodies syn leaves as tokens),
/// with a name imported by `use` (or `use ... as`) replaced by what it imports.
fn paths_named(source: &str) -> Vec<Vec<String>> {
    let file = syn::parse_file(source).unwrap();
    let mut scan = PathScan::default();
    scan.visit_file(&file);
    scan.paths
        .into_iter()
        .map(|mut path| {
            if let Some(full) = scan.imports.get(&path[0]).filter(|_| path.len() > 1) {
                path.splice(0..1, full.iter().cloned());
            }
            path
        })
        .collect()
}

#[derive(Default)]
struct PathScan {
    paths: Vec<Vec<String>>,
    /// The name a `use` brings into scope -> the full path it imports.
    imports: HashMap<String, Vec<String>>,
}

impl PathScan {
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                // `use a::b::{self}` brings `b` into scope.
                let alias = match name.as_str() {
                    "self" => prefix.last().cloned().unwrap_or_default(),
                    _ => name.clone(),
                };
                self.import(prefix, &name, alias);
            }
            syn::UseTree::Rename(r) => {
                self.import(prefix, &r.ident.to_string(), r.rename.to_string())
            }
            syn::UseTree::Glob(_) => self.paths.push(prefix.clone()),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    fn import(&mut self, prefix: &[String], name: &str, alias: String) {
        let mut full = prefix.to_vec();
        if name != "self" {
            full.push(name.to_owned());
        }
        self.imports.insert(alias, full.clone());
        self.paths.push(full);
    }

    /// `a::b::c` sequences in a macro's tokens, nested groups included.
    fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let tokens: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                proc_macro2::TokenTree::Group(group) => self.tokens(group.stream()),
                proc_macro2::TokenTree::Ident(first) => {
                    let mut path = vec![first.to_string()];
                    while let (
                        Some(proc_macro2::TokenTree::Punct(a)),
                        Some(proc_macro2::TokenTree::Punct(b)),
                        Some(proc_macro2::TokenTree::Ident(next)),
                    ) = (tokens.get(i + 1), tokens.get(i + 2), tokens.get(i + 3))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        path.push(next.to_string());
                        i += 3;
                    }
                    self.paths.push(path);
                }
                _ => {}
            }
            i += 1;
        }
    }
}

fn only_in_tests(attributes: &[syn::Attribute]) -> bool {
    attributes.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Ident>()
                .is_ok_and(|predicate| predicate == "test")
    })
}

impl<'ast> Visit<'ast> for PathScan {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attributes = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !only_in_tests(attributes) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_item_extern_crate(&mut self, item: &'ast syn::ItemExternCrate) {
        self.paths.push(vec![item.ident.to_string()]);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.paths
            .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

/// Whether `named` (relative to the repository, maybe with `{a,b}`, `{name}` or `*`) names
/// at least one file or folder that exists.
fn named_path_exists(root: &Path, named: &str) -> bool {
    let alternatives = match (named.find('{'), named.find('}')) {
        (Some(open), Some(close)) if open < close => {
            let inside = &named[open + 1..close];
            let (before, after) = (&named[..open], &named[close + 1..]);
            if inside.contains(',') {
                inside
                    .split(',')
                    .map(|choice| format!("{before}{choice}{after}"))
                    .collect()
            } else {
                vec![format!("{before}*{after}")]
            }
        }
        _ => vec![named.to_owned()],
    };
    alternatives.iter().all(|named| {
        if named.contains(['{', '}']) {
            return named_path_exists(root, named);
        }
        let pattern = root.join(named.trim_end_matches('/'));
        glob::glob(&pattern.to_string_lossy()).is_ok_and(|mut found| found.any(|path| path.is_ok()))
    })
}

/// The repository's documents and sources: `*.md` and `*.rs` outside build output,
/// installed packages and version control.
fn repository_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            if !["target", "node_modules", "dist", ".git"].contains(&name.as_ref()) {
                files.extend(repository_files(&path));
            }
        } else if path.extension().is_some_and(|e| e == "md" || e == "rs") {
            files.push(path);
        }
    }
    files
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(workspace())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every schema of the OpenAPI document has its own name. utoipa keys schemas by name, so two
/// types that publish the same name leave one of them described as the other (a case's
/// `rating` once read as an evaluation's row); the vocabulary's generated names count too.
#[test]
fn every_published_schema_has_its_own_name() {
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    for path in rust_files(&workspace().join("crates/cityops-api/src")) {
        let source = std::fs::read_to_string(&path).unwrap();
        let file = syn::parse_file(&source).unwrap();
        let place = path
            .strip_prefix(workspace())
            .unwrap()
            .display()
            .to_string();
        let mut items: Vec<&syn::Item> = file.items.iter().collect();
        while let Some(item) = items.pop() {
            let (ident, attrs) = match item {
                syn::Item::Struct(s) => (&s.ident, &s.attrs),
                syn::Item::Enum(e) => (&e.ident, &e.attrs),
                syn::Item::Mod(m) => {
                    items.extend(m.content.iter().flat_map(|(_, inner)| inner.iter()));
                    continue;
                }
                syn::Item::Macro(m) if m.mac.path.is_ident("vocabulary") => {
                    // `domain::Type => Name: "description";` per entry.
                    let tokens: Vec<String> = m
                        .mac
                        .tokens
                        .clone()
                        .into_iter()
                        .map(|t| t.to_string())
                        .collect();
                    for window in tokens.windows(4) {
                        if window[0] == "=" && window[1] == ">" && window[3] == ":" {
                            seen.entry(window[2].clone())
                                .or_default()
                                .push(format!("{place} (vocabulary)"));
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            let list = |a: &syn::Attribute, name: &str| match &a.meta {
                syn::Meta::List(list) if a.path().is_ident(name) => Some(list.tokens.to_string()),
                _ => None,
            };
            let derives_schema = attrs
                .iter()
                .any(|a| list(a, "derive").is_some_and(|t| t.contains("ToSchema")));
            if !derives_schema {
                continue;
            }
            // `#[schema(as = Name)]` publishes under another name.
            let renamed = attrs.iter().find_map(|a| {
                let text = list(a, "schema")?;
                let rest = text.split("as =").nth(1)?;
                Some(
                    rest.trim()
                        .trim_end_matches(')')
                        .split([',', ' '])
                        .next()?
                        .to_owned(),
                )
            });
            let name = renamed.unwrap_or_else(|| ident.to_string());
            seen.entry(name).or_default().push(place.clone());
        }
    }
    let twice: Vec<_> = seen
        .into_iter()
        .filter(|(_, places)| places.len() > 1)
        .collect();
    assert!(
        twice.is_empty(),
        "schemas published under one name: {twice:#?}"
    );
}

/// Migrations only add: a node of the previous release keeps working on a database the next
/// release migrated, which a rolling upgrade (docs/OPERATIONS.md) relies on. Dropping an
/// index is allowed (it changes speed, not what a query returns); a new column is nullable
/// or has a default (an old node's inserts do not name it).
#[test]
fn migrations_drop_and_rename_nothing_a_running_node_reads() {
    let mut offending = Vec::new();
    for dialect in ["postgres", "sqlite"] {
        let dir = workspace()
            .join("crates/cityops-store/migrations")
            .join(dialect);
        for name in names(&dir) {
            let text = std::fs::read_to_string(dir.join(&name)).unwrap();
            for (number, line) in text.lines().enumerate() {
                let code = line.split("--").next().unwrap_or("").to_ascii_uppercase();
                let words: Vec<&str> = code.split_whitespace().collect();
                let drops = words
                    .windows(2)
                    .any(|w| w[0] == "DROP" && matches!(w[1], "TABLE" | "COLUMN" | "VIEW"));
                let changes = words.contains(&"RENAME")
                    || words
                        .windows(2)
                        .any(|w| w[0] == "ALTER" && w[1] == "COLUMN");
                // An old node's inserts name no new column: a new one needs a default.
                let strict = words.windows(2).any(|w| w == ["ADD", "COLUMN"])
                    && code.contains("NOT NULL")
                    && !words.contains(&"DEFAULT");
                if drops || changes || strict {
                    offending.push(format!("{dialect}/{name}:{}: {}", number + 1, line.trim()));
                }
            }
        }
    }
    assert!(offending.is_empty(), "{offending:#?}");
}
