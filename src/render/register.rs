//! Pages of the KI-Register: the index with facets, one pre-rendered page per facet value (filters that work
//! without JavaScript), one page per AI system, and the open-data downloads (see [`data`]).
//!
//! The entry page is built generically from the schema: each section lists field names, each field becomes
//! a row whose label comes from the theme (`reg_f_<field>`) and whose vocabulary values carry the labels of
//! the site's vocabularies. Fields listed in `unverified` are marked on their row.

pub(crate) mod data;
pub(crate) mod history;

use std::collections::HashMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::content::Content;
use crate::content::register::schema::{FIELDS, Field, Kind};
use crate::content::register::{Entry, Record, Value};
use crate::render::{DateContext, OutputFile, PageJob, Shared};
use crate::versions::Versions;

/// The facets of the index: URL segment and translation key suffix, and the vocabulary of its values.
pub(crate) const FACETS: &[(&str, &str)] = &[
    ("status", "status"),
    ("risk_class", "risk_class"),
    ("hosting", "hosting"),
    ("data_location", "data_location"),
    ("licence", "licence"),
    ("audience", "audience"),
];

/// The sections of an entry page: anchor id, translation key of the title, top-level fields in order.
const SECTIONS: &[(&str, &str, &[&str])] = &[
    (
        "ueberblick",
        "reg_section_overview",
        &[
            "status",
            "in_use_since",
            "retired_on",
            "audience",
            "themes",
            "capability",
            "org_unit",
            "source_code_url",
        ],
    ),
    (
        "einsatz",
        "reg_section_use",
        &[
            "purpose",
            "decision_effect",
            "proportionality",
            "appeal",
            "legal_basis",
        ],
    ),
    (
        "daten",
        "reg_section_data",
        &[
            "personal_data",
            "dpia_reason",
            "data_sources",
            "hosting",
            "hosting_provider",
            "data_location",
            "models",
            "oss_deviation_reason",
            "suppliers",
            "transparency_limits",
        ],
    ),
    (
        "risiken",
        "reg_section_risks",
        &[
            "ai_act_role",
            "risk_class",
            "risk_rationale",
            "art5_check",
            "annex_iii_area",
            "profiling",
            "art6_3_exception",
            "art50_duties",
            "risks",
            "human_oversight",
            "impact_assessments",
            "fria",
            "eu_db_url",
            "log_retention_months",
            "workers_reps_informed",
        ],
    ),
    (
        "verantwortung",
        "reg_section_responsibility",
        &[
            "accountable_role",
            "contact_email",
            "approval",
            "training",
            "last_reviewed",
            "schema_version",
        ],
    ),
];

/// Top-level fields shown outside the sections: in the page header, the banner or the review row.
#[cfg(test)]
const SHOWN_ELSEWHERE: &[&str] = &[
    "id",
    "name",
    "summary",
    "example",
    "review_interval_months",
    "unverified",
];

/// Site paths this module generates, for link checking.
pub(crate) fn generated_paths(content: &Content) -> Vec<String> {
    let mut paths = vec!["register/".to_string()];
    paths.extend(data::FILES.iter().map(|f| f.to_string()));
    paths.extend(content.register.iter().map(|e| e.url_path.clone()));
    for &(facet, vocabulary) in FACETS {
        for id in content.vocabularies.ids(vocabulary) {
            paths.push(facet_path(facet, id));
        }
    }
    paths
}

fn facet_path(facet: &str, value: &str) -> String {
    format!("register/{facet}/{value}/")
}

#[derive(Serialize, Clone)]
struct TermContext {
    id: String,
    label: String,
}

#[derive(Serialize, Clone)]
struct EntrySummary {
    id: String,
    name: String,
    summary: String,
    url: String,
    example: bool,
    status: TermContext,
    risk_class: TermContext,
}

#[derive(Serialize, Clone)]
struct FacetValue {
    id: String,
    label: String,
    count: usize,
    url: String,
    current: bool,
}

#[derive(Serialize, Clone)]
struct FacetContext {
    key: &'static str,
    title: String,
    values: Vec<FacetValue>,
}

#[derive(Serialize)]
struct Downloads {
    json: String,
    csv: String,
    schema: String,
    changelog: String,
}

#[derive(Serialize)]
struct Row {
    field: String,
    label: String,
    unverified: bool,
    #[serde(flatten)]
    value: RowValue,
}

#[derive(Serialize)]
struct RecordContext {
    rows: Vec<Row>,
}

#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum RowValue {
    Text {
        text: String,
    },
    List {
        items: Vec<String>,
    },
    Terms {
        terms: Vec<TermContext>,
    },
    Bool {
        value: bool,
    },
    Number {
        value: i64,
    },
    Date {
        date: DateContext,
    },
    Month {
        iso: String,
        display: String,
    },
    Link {
        url: String,
    },
    /// An empty address means "not yet filled in".
    Email {
        address: String,
    },
    Role {
        id: String,
        title: String,
        url: String,
    },
    Review {
        last: DateContext,
        next: DateContext,
        interval_months: u32,
        overdue: bool,
    },
    Records {
        records: Vec<RecordContext>,
    },
}

#[derive(Serialize)]
struct SectionContext {
    id: &'static str,
    title: String,
    rows: Vec<Row>,
}

#[derive(Serialize)]
pub(crate) struct EntryContext {
    #[serde(flatten)]
    summary: EntrySummary,
    sections: Vec<SectionContext>,
    /// Labels of the fields listed in `unverified`.
    unverified: Vec<String>,
    overdue: bool,
    source_path: String,
    /// Search filter values (labels): where the system runs and its models' licences.
    hosting: String,
    licences: Vec<String>,
}

/// Everything a page needs to look up labels.
struct Labels<'a> {
    shared: &'a Shared<'a>,
    content: &'a Content,
}

impl Labels<'_> {
    fn term(&self, vocabulary: &str, id: &str) -> TermContext {
        TermContext {
            id: id.to_string(),
            label: self.content.vocabularies.label(vocabulary, id),
        }
    }

    fn field(&self, path: &str) -> String {
        self.shared.text(&format!("reg_f_{path}"))
    }

    fn summary(&self, entry: &Entry) -> EntrySummary {
        let r = &entry.record;
        EntrySummary {
            id: entry.id.clone(),
            name: r.text("name").unwrap_or(&entry.id).to_string(),
            summary: r.text("summary").unwrap_or_default().to_string(),
            url: self.shared.url(&entry.url_path),
            example: entry.is_example(),
            status: self.term("status", r.text("status").unwrap_or_default()),
            risk_class: self.term("risk_class", r.text("risk_class").unwrap_or_default()),
        }
    }

    fn month(&self, value: &str) -> RowValue {
        let display = value
            .split_once('-')
            .and_then(|(y, m)| Some((y, m.parse::<u32>().ok()?)))
            .map_or_else(
                || value.to_string(),
                |(year, month)| format!("{} {year}", self.shared.text(&format!("month_{month}"))),
            );
        RowValue::Month {
            iso: value.to_string(),
            display,
        }
    }

    /// The rows of `fields` of a record (`names`: which fields, in order; `None`: all).
    fn rows(
        &self,
        entry: &Entry,
        record: &Record,
        fields: &'static [Field],
        names: Option<&[&str]>,
        prefix: &str,
    ) -> Vec<Row> {
        let selected: Vec<&'static Field> = match names {
            Some(names) => names
                .iter()
                .filter_map(|n| fields.iter().find(|f| f.name == *n))
                .collect(),
            None => fields.iter().collect(),
        };
        selected
            .into_iter()
            .filter_map(|f| {
                let path = format!("{prefix}{}", f.name);
                let value = self.value(entry, record, f, &path)?;
                Some(Row {
                    label: self.field(&path),
                    unverified: prefix.is_empty() && entry.is_unverified(f.name),
                    field: path,
                    value,
                })
            })
            .collect()
    }

    fn value(&self, entry: &Entry, record: &Record, f: &Field, path: &str) -> Option<RowValue> {
        if f.name == "last_reviewed" && path == "last_reviewed" {
            let last = record.date("last_reviewed")?;
            let next = entry.next_review()?;
            return Some(RowValue::Review {
                last: self.shared.date(last),
                next: self.shared.date(next),
                interval_months: entry.review_interval(),
                overdue: next < self.shared.today,
            });
        }
        let value = &record.get(f.name)?.value;
        let texts = || -> Vec<String> {
            match value {
                Value::List(items) => items
                    .iter()
                    .filter_map(|i| match &i.value {
                        Value::Text(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let text = || match value {
            Value::Text(s) => s.clone(),
            _ => String::new(),
        };
        Some(match f.kind {
            Kind::Id | Kind::Text(_) | Kind::Const(_) => RowValue::Text { text: text() },
            Kind::Texts(_) => RowValue::List { items: texts() },
            Kind::Choice(vocabulary) => RowValue::Terms {
                terms: vec![self.term(vocabulary, &text())],
            },
            Kind::Choices(vocabulary) => RowValue::Terms {
                terms: texts().iter().map(|id| self.term(vocabulary, id)).collect(),
            },
            Kind::NumberChoice(vocabulary) => {
                let Value::Int(n) = value else { return None };
                let id = n.to_string();
                RowValue::Terms {
                    terms: vec![TermContext {
                        label: format!(
                            "{id} – {}",
                            self.content.vocabularies.label(vocabulary, &id)
                        ),
                        id,
                    }],
                }
            }
            Kind::Bool => match value {
                Value::Bool(b) => RowValue::Bool { value: *b },
                _ => return None,
            },
            Kind::Int { .. } => match value {
                Value::Int(i) => RowValue::Number { value: *i },
                _ => return None,
            },
            Kind::Date => match value {
                Value::Date(d) => RowValue::Date {
                    date: self.shared.date(*d),
                },
                _ => return None,
            },
            Kind::Month => self.month(&text()),
            Kind::Url => RowValue::Link { url: text() },
            Kind::Mailbox => RowValue::Email { address: text() },
            Kind::Role => {
                let id = text();
                RowValue::Role {
                    title: self
                        .content
                        .roles
                        .get(&id)
                        .map_or_else(|| id.clone(), |r| r.title.clone()),
                    url: self.shared.url(&format!("rollen/{id}/")),
                    id,
                }
            }
            Kind::Trainings => RowValue::Terms {
                terms: texts()
                    .into_iter()
                    .map(|id| TermContext {
                        label: self
                            .content
                            .training
                            .get(&id)
                            .map_or_else(|| id.clone(), |m| m.title.clone()),
                        id,
                    })
                    .collect(),
            },
            Kind::FieldNames => RowValue::Terms {
                terms: texts()
                    .into_iter()
                    .map(|name| TermContext {
                        label: self.field(&name),
                        id: name,
                    })
                    .collect(),
            },
            Kind::Table(fields) => {
                let Value::Table(sub) = value else {
                    return None;
                };
                RowValue::Records {
                    records: vec![RecordContext {
                        rows: self.rows(entry, sub, fields, None, &format!("{path}_")),
                    }],
                }
            }
            Kind::Tables(fields) => {
                let Value::List(items) = value else {
                    return None;
                };
                RowValue::Records {
                    records: items
                        .iter()
                        .filter_map(|item| match &item.value {
                            Value::Table(sub) => Some(RecordContext {
                                rows: self.rows(entry, sub, fields, None, &format!("{path}_")),
                            }),
                            _ => None,
                        })
                        .collect(),
                }
            }
        })
    }

    fn entry(&self, entry: &Entry) -> EntryContext {
        let sections = SECTIONS
            .iter()
            .map(|&(id, title, names)| SectionContext {
                id,
                title: self.shared.text(title),
                rows: self.rows(entry, &entry.record, FIELDS, Some(names), ""),
            })
            .filter(|s| !s.rows.is_empty())
            .collect();
        EntryContext {
            summary: self.summary(entry),
            sections,
            unverified: entry
                .record
                .texts("unverified")
                .map(|f| self.field(f))
                .collect(),
            overdue: entry
                .next_review()
                .is_some_and(|next| next < self.shared.today),
            source_path: entry.source.path.clone(),
            hosting: Self::facet_values(entry, "hosting")
                .first()
                .map(|h| self.content.vocabularies.label("hosting", h))
                .unwrap_or_default(),
            licences: Self::facet_values(entry, "licence")
                .into_iter()
                .map(|l| self.content.vocabularies.label("licence", l))
                .collect(),
        }
    }

    /// The values of an entry for a facet (an entry has one value per facet, several licences at most).
    fn facet_values<'e>(entry: &'e Entry, facet: &str) -> Vec<&'e str> {
        match facet {
            "licence" => {
                let mut licences: Vec<&str> = entry
                    .record
                    .tables("models")
                    .filter_map(|m| m.text("licence"))
                    .collect();
                licences.sort_unstable();
                licences.dedup();
                licences
            }
            field => entry.record.text(field).into_iter().collect(),
        }
    }

    /// The register's facets with how many entries have each value. `values[i][f]` are entry `i`'s
    /// values of facet `f` (see [`FACETS`]).
    fn facets(&self, values: &[Vec<Vec<&str>>]) -> Vec<FacetContext> {
        FACETS
            .iter()
            .enumerate()
            .map(|(f, &(key, vocabulary))| FacetContext {
                key,
                title: self.shared.text(&format!("reg_facet_{key}")),
                values: self
                    .content
                    .vocabularies
                    .terms(vocabulary)
                    .iter()
                    .map(|term| FacetValue {
                        id: term.id.clone(),
                        label: term.label.clone(),
                        count: values
                            .iter()
                            .filter(|entry| entry[f].contains(&term.id.as_str()))
                            .count(),
                        url: self.shared.url(&facet_path(key, &term.id)),
                        current: false,
                    })
                    .collect(),
            })
            .collect()
    }
}

pub(crate) fn jobs(shared: &Shared, content: &Content, versions: &Versions) -> Vec<PageJob> {
    let labels = Labels { shared, content };
    let entries: Vec<&Entry> = sorted_entries(content);
    let summaries: Vec<EntrySummary> = entries.iter().map(|e| labels.summary(e)).collect();
    let downloads = Downloads {
        json: shared.url(data::JSON),
        csv: shared.url(data::CSV),
        schema: shared.url(data::SCHEMA),
        changelog: shared.url(data::CHANGELOG),
    };
    // Each entry's values of each facet: the facet pages count and filter by them.
    let values: Vec<Vec<Vec<&str>>> = entries
        .iter()
        .map(|e| {
            FACETS
                .iter()
                .map(|&(key, _)| Labels::facet_values(e, key))
                .collect()
        })
        .collect();
    let facets = labels.facets(&values);
    let mut jobs = Vec::new();
    jobs.push(shared.job("register_index.html", "register/", |c| {
        c.insert("entries", &summaries);
        c.insert("facets", &facets);
        c.insert("downloads", &downloads);
        c.insert(
            "example_count",
            &entries.iter().filter(|e| e.is_example()).count(),
        );
    }));
    for (f, &(key, vocabulary)) in FACETS.iter().enumerate() {
        for term in content.vocabularies.terms(vocabulary) {
            let path = facet_path(key, &term.id);
            jobs.push(shared.job("register_facet.html", &path, |c| {
                let matching: Vec<&EntrySummary> = values
                    .iter()
                    .zip(&summaries)
                    .filter(|(entry, _)| entry[f].contains(&term.id.as_str()))
                    .map(|(_, s)| s)
                    .collect();
                c.insert("facet_title", &shared.text(&format!("reg_facet_{key}")));
                c.insert("value_label", &term.label);
                c.insert("value_description", &term.description);
                c.insert("entries", &matching);
                let mut facets = facets.clone();
                for value in &mut facets[f].values {
                    value.current = value.id == term.id;
                }
                c.insert("facets", &facets);
            }));
        }
    }
    // Each entry's context is made once: its page and its Stand of today's text show it.
    let today: HashMap<&str, (&Entry, EntryContext)> = entries
        .par_iter()
        .map(|entry| (entry.id.as_str(), (*entry, labels.entry(entry))))
        .collect();
    jobs.par_extend(entries.par_iter().map(|entry| {
        let (_, context) = &today[entry.id.as_str()];
        entry_job_with(shared, versions, entry, context)
    }));
    jobs.extend(history::jobs(shared, content, versions, &today));
    jobs
}

/// The page of one entry, as [`jobs`] makes it (for an entry read again after a save, see
/// [`crate::content::Content::reread`]).
pub(crate) fn entry_job(
    shared: &Shared,
    content: &Content,
    versions: &Versions,
    entry: &Entry,
) -> PageJob {
    labelled_entry_job(&Labels { shared, content }, versions, entry)
}

fn labelled_entry_job(labels: &Labels, versions: &Versions, entry: &Entry) -> PageJob {
    entry_job_with(labels.shared, versions, entry, &labels.entry(entry))
}

/// The page of `entry`, whose context is `context`.
fn entry_job_with(
    shared: &Shared,
    versions: &Versions,
    entry: &Entry,
    context: &EntryContext,
) -> PageJob {
    shared.job("register_entry.html", &entry.url_path, |c| {
        c.insert("page", context);
        c.insert("history", &history::link(shared, versions, entry));
    })
}

/// The data files: `register.json`, `register.csv`, `register.schema.json`, `register-aenderungen.csv`.
pub(crate) fn files(shared: &Shared, content: &Content, versions: &Versions) -> Vec<OutputFile> {
    let entries = sorted_entries(content);
    let mut files = data::files(shared.config, content, &entries);
    files.push(OutputFile::new(
        data::CHANGELOG,
        data::changelog_csv(&history::changelog(shared, content, versions)),
    ));
    files
}

/// Published entries in the order lists show them: by name, then id.
fn sorted_entries(content: &Content) -> Vec<&Entry> {
    let mut entries: Vec<&Entry> = content.valid_register().collect();
    entries.sort_by(|a, b| {
        let key = |e: &Entry| {
            (
                e.record.text("name").unwrap_or_default().to_lowercase(),
                e.id.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn keys(text: &str) -> BTreeMap<String, String> {
        toml::from_str(text).unwrap()
    }

    fn label_keys() -> Vec<String> {
        let mut out = Vec::new();
        for f in FIELDS {
            out.push(format!("reg_f_{}", f.name));
            if let Kind::Table(sub) | Kind::Tables(sub) = f.kind {
                out.extend(sub.iter().map(|s| format!("reg_f_{}_{}", f.name, s.name)));
            }
        }
        out.extend(FACETS.iter().map(|(k, _)| format!("reg_facet_{k}")));
        out.extend(SECTIONS.iter().map(|(_, t, _)| t.to_string()));
        out
    }

    #[test]
    fn every_field_facet_and_section_has_a_label_in_both_languages() {
        for lang in ["de", "en"] {
            let text = std::fs::read_to_string(format!(
                "{}/themes/default/i18n/{lang}.toml",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let keys = keys(&text);
            for key in label_keys() {
                assert!(keys.contains_key(&key), "{lang}.toml lacks {key}");
            }
        }
    }

    #[test]
    fn every_field_is_shown_exactly_once() {
        let mut shown: Vec<&str> = SECTIONS
            .iter()
            .flat_map(|(_, _, f)| f.iter().copied())
            .collect();
        shown.extend(SHOWN_ELSEWHERE);
        shown.sort_unstable();
        let mut all: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        all.sort_unstable();
        assert_eq!(shown, all);
    }
}
