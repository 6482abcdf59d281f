//! The schema of a KI-Register entry, as data: one list of [`Field`]s that the reader, the validation, the
//! open-data exports and the published JSON Schema all use, so that they cannot drift apart.
//!
//! Requirements that depend on other values of the same entry are [`Cond`]itions: the reader turns them
//! into E1 with the reason („erforderlich, weil risk_class = high“), the JSON Schema into `if`/`then`.
//! Rules that are more than "this field must be present" (E3–E7) live in `validate::register` and are
//! mirrored in [`json_schema`].

use serde_json::{Value as Json, json};

use crate::content::register::Record;
use crate::content::vocab::Vocabularies;

/// The schema version this engine reads and writes.
pub const SCHEMA_VERSION: &str = "1.0";

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// The entry's id: a slug equal to the file name.
    Id,
    /// Free text with a maximum length in characters (E11).
    Text(usize),
    /// A list of free texts, each with a maximum length.
    Texts(usize),
    /// Exactly this text (the schema version).
    Const(&'static str),
    /// One id of the named vocabulary (E2).
    Choice(&'static str),
    /// A list of ids of the named vocabulary (E2).
    Choices(&'static str),
    /// An integer that must be an id of the named vocabulary (Annex III areas 1–8).
    NumberChoice(&'static str),
    /// `true` or `false`.
    Bool,
    /// An integer in an inclusive range.
    Int { min: i64, max: i64 },
    /// A calendar date, `YYYY-MM-DD` (E10).
    Date,
    /// A month, `"YYYY-MM"` (E10).
    Month,
    /// An http(s) address (E10).
    Url,
    /// A functional mailbox; `""` means "not yet filled in" (E10, W4).
    Mailbox,
    /// A role id from `content/rollen.toml` (E8).
    Role,
    /// Ids of training modules from `content/daten/schulungen.toml` (E2).
    Trainings,
    /// Names of top-level fields of this schema (E2).
    FieldNames,
    /// A sub-table with its own fields.
    Table(&'static [Field]),
    /// A list of sub-tables (`[[name]]`).
    Tables(&'static [Field]),
}

impl Kind {
    /// Whether the field holds a list (absent lists are exported as `[]`).
    pub fn is_list(self) -> bool {
        matches!(
            self,
            Kind::Texts(_)
                | Kind::Choices(_)
                | Kind::Trainings
                | Kind::FieldNames
                | Kind::Tables(_)
        )
    }
}

/// A condition on other values of the entry under which a field is required.
#[derive(Debug, Clone, Copy)]
pub enum Cond {
    /// `status` is set and is not this value.
    StatusIsNot(&'static str),
    /// `status` is one of these values.
    StatusIsOneOf(&'static [&'static str]),
    /// `risk_class` is this value.
    RiskClassIs(&'static str),
    /// `risk_class = high`, or `art6_3_exception = true`.
    HighOrException,
    /// `decision_effect` is set and is not this value.
    DecisionEffectIsNot(&'static str),
    /// `hosting` is set and is not this value.
    HostingIsNot(&'static str),
}

impl Cond {
    /// Why the field is required for this entry („status = pilot“), or `None` if it is not.
    pub fn reason(self, entry: &Record) -> Option<String> {
        let is = |field: &str, pred: &dyn Fn(&str) -> bool| {
            entry
                .text(field)
                .filter(|v| pred(v))
                .map(|v| format!("{field} = {v}"))
        };
        match self {
            Cond::StatusIsNot(v) => is("status", &|s| s != v),
            Cond::StatusIsOneOf(vs) => is("status", &|s| vs.contains(&s)),
            Cond::RiskClassIs(v) => is("risk_class", &|s| s == v),
            Cond::HighOrException => is("risk_class", &|s| s == "high").or_else(|| {
                (entry.bool("art6_3_exception") == Some(true))
                    .then(|| "art6_3_exception = true".to_string())
            }),
            Cond::DecisionEffectIsNot(v) => is("decision_effect", &|s| s != v),
            Cond::HostingIsNot(v) => is("hosting", &|s| s != v),
        }
    }

    /// The condition in German, for documentation.
    pub fn describe(self) -> String {
        match self {
            Cond::StatusIsNot(v) => format!("status ≠ {v}"),
            Cond::StatusIsOneOf(vs) => format!("status = {}", vs.join(" oder ")),
            Cond::RiskClassIs(v) => format!("risk_class = {v}"),
            Cond::HighOrException => "risk_class = high oder art6_3_exception = true".into(),
            Cond::DecisionEffectIsNot(v) => format!("decision_effect ≠ {v}"),
            Cond::HostingIsNot(v) => format!("hosting ≠ {v}"),
        }
    }

    /// The condition as a JSON Schema (for `if`).
    fn json(self) -> Json {
        let prop = |field: &str, schema: Json| json!({ "properties": { field: schema } });
        match self {
            Cond::StatusIsNot(v) => prop("status", json!({ "not": { "const": v } })),
            Cond::StatusIsOneOf(vs) => prop("status", json!({ "enum": vs })),
            Cond::RiskClassIs(v) => prop("risk_class", json!({ "const": v })),
            Cond::HighOrException => json!({ "anyOf": [
                prop("risk_class", json!({ "const": "high" })),
                prop("art6_3_exception", json!({ "const": true })),
            ] }),
            Cond::DecisionEffectIsNot(v) => {
                prop("decision_effect", json!({ "not": { "const": v } }))
            }
            Cond::HostingIsNot(v) => prop("hosting", json!({ "not": { "const": v } })),
        }
    }
}

/// When a field must be present.
#[derive(Debug, Clone, Copy)]
pub enum Req {
    Always,
    /// Optional for E1; some optional fields are demanded by a rule (E3, E5, E7, W1), see their docs.
    Optional,
    When(Cond),
}

/// The value an absent optional field has in the exports.
#[derive(Debug, Clone, Copy)]
pub enum IfAbsent {
    None,
    Int(i64),
    Bool(bool),
}

/// One field of an entry.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub req: Req,
    pub default: IfAbsent,
    /// German, one sentence: what the field says (the JSON Schema's description).
    pub doc: &'static str,
}

const fn field(name: &'static str, kind: Kind, req: Req, doc: &'static str) -> Field {
    Field {
        name,
        kind,
        req,
        default: IfAbsent::None,
        doc,
    }
}

/// Short texts (names, units) and long texts (rationales, descriptions), in characters.
const SHORT: usize = 300;
const LONG: usize = 3000;

const NOT_PLANNED: Req = Req::When(Cond::StatusIsNot("planned"));
const IN_OPERATION: Req = Req::When(Cond::StatusIsOneOf(&["pilot", "in_use"]));
const HIGH: Req = Req::When(Cond::RiskClassIs("high"));
const DECIDES: Req = Req::When(Cond::DecisionEffectIsNot("none"));
const THIRD_PARTY: Req = Req::When(Cond::HostingIsNot("own"));
use Req::{Always, Optional};

const APPROVAL: &[Field] = &[
    field(
        "by_role",
        Kind::Role,
        Always,
        "Rolle, die den Einsatz freigegeben hat (Rollen-id).",
    ),
    field("date", Kind::Date, Always, "Datum der Freigabe."),
];

const SUPPLIER: &[Field] = &[
    field("name", Kind::Text(SHORT), Always, "Name des Dritten."),
    field(
        "role",
        Kind::Text(SHORT),
        Always,
        "Was der Dritte leistet (Entwicklung, Betrieb, Modell …).",
    ),
    field(
        "procurement",
        Kind::Text(1000),
        Always,
        "Wie die Leistung beschafft wurde (Vertrag, Nachnutzung, Lizenz).",
    ),
    field(
        "data_access",
        Kind::Text(1000),
        Always,
        "Auf welche Daten der Dritte zugreift.",
    ),
];

const ART5_CHECK: &[Field] = &[
    field(
        "date",
        Kind::Date,
        Always,
        "Datum der Prüfung auf verbotene Praktiken.",
    ),
    field(
        "result",
        Kind::Text(LONG),
        Always,
        "Ergebnis der Prüfung nach Art. 5 KI-VO.",
    ),
];

const FRIA: &[Field] = &[
    field(
        "process",
        Kind::Text(LONG),
        Always,
        "Verfahren, in dem das System verwendet wird (Art. 27 Abs. 1 lit. a KI-VO).",
    ),
    field(
        "period",
        Kind::Text(LONG),
        Always,
        "Zeitraum und Häufigkeit der Verwendung (lit. b).",
    ),
    field(
        "affected_groups",
        Kind::Text(LONG),
        Always,
        "Betroffene Personengruppen (lit. c).",
    ),
    field(
        "risks",
        Kind::Text(LONG),
        Always,
        "Spezifische Schadensrisiken für diese Gruppen (lit. d).",
    ),
    field(
        "oversight",
        Kind::Text(LONG),
        Always,
        "Maßnahmen der menschlichen Aufsicht (lit. e).",
    ),
    field(
        "measures",
        Kind::Text(LONG),
        Always,
        "Maßnahmen beim Eintreten der Risiken, Beschwerdewege (lit. f).",
    ),
    field(
        "date",
        Kind::Date,
        Always,
        "Datum der Grundrechte-Folgenabschätzung.",
    ),
    field(
        "summary",
        Kind::Text(LONG),
        Always,
        "Zusammenfassung nach Anhang VIII Abschnitt C KI-VO.",
    ),
];

const LEGAL_BASIS: &[Field] = &[
    field(
        "title",
        Kind::Text(SHORT),
        Always,
        "Bezeichnung der Rechtsgrundlage, z. B. „§ 3 NDSG“.",
    ),
    field("url", Kind::Url, Optional, "Adresse des Normtexts."),
];

const MODEL: &[Field] = &[
    field("name", Kind::Text(SHORT), Always, "Name des Modells."),
    field("version", Kind::Text(100), Always, "Version des Modells."),
    field(
        "vendor",
        Kind::Text(SHORT),
        Always,
        "Hersteller oder Herausgeber des Modells.",
    ),
    field(
        "licence",
        Kind::Choice("licence"),
        Always,
        "Lizenz des Modells (Punkt 2 des Antrags).",
    ),
];

const ASSESSMENT: &[Field] = &[
    field(
        "type",
        Kind::Choice("assessment_type"),
        Always,
        "Art der Folgenabschätzung oder Prüfung.",
    ),
    field("date", Kind::Date, Always, "Datum des Abschlusses."),
    field("summary", Kind::Text(LONG), Always, "Ergebnis in Kürze."),
    field(
        "url",
        Kind::Url,
        Optional,
        "Adresse des veröffentlichten Berichts.",
    ),
];

/// Every top-level field of an entry, in the order of the exports.
pub const FIELDS: &[Field] = &[
    field(
        "id",
        Kind::Id,
        Always,
        "Dauerhafte Kennung; gleich dem Dateinamen ohne .toml.",
    ),
    field("name", Kind::Text(100), Always, "Name des Systems."),
    field(
        "summary",
        Kind::Text(400),
        Always,
        "Kurzbeschreibung für Bürgerinnen und Bürger.",
    ),
    field(
        "status",
        Kind::Choice("status"),
        Always,
        "Stand des Einsatzes.",
    ),
    field(
        "in_use_since",
        Kind::Month,
        NOT_PLANNED,
        "Monat, seit dem das System erprobt oder eingesetzt wird (JJJJ-MM).",
    ),
    field(
        "retired_on",
        Kind::Month,
        Optional,
        "Monat der Außerbetriebnahme (JJJJ-MM); genau dann, wenn status = retired (E3).",
    ),
    field(
        "themes",
        Kind::Choices("themes"),
        Always,
        "Aufgabenbereiche der Verwaltung.",
    ),
    field(
        "capability",
        Kind::Choices("capability"),
        Always,
        "Was das System leistet.",
    ),
    field(
        "audience",
        Kind::Choice("audience"),
        Always,
        "Wer das System nutzt oder von ihm angesprochen wird.",
    ),
    field(
        "org_unit",
        Kind::Text(SHORT),
        Always,
        "Organisationseinheit, die das System einsetzt.",
    ),
    field(
        "accountable_role",
        Kind::Role,
        Always,
        "Verantwortliche Rolle (Rollen-id aus content/rollen.toml).",
    ),
    field(
        "contact_email",
        Kind::Mailbox,
        Always,
        "Funktionspostfach für Fragen; \"\" = noch zu ergänzen.",
    ),
    field(
        "approval",
        Kind::Table(APPROVAL),
        IN_OPERATION,
        "Freigabe des Einsatzes.",
    ),
    field(
        "suppliers",
        Kind::Tables(SUPPLIER),
        THIRD_PARTY,
        "Beteiligte Dritte.",
    ),
    field(
        "ai_act_role",
        Kind::Choice("ai_act_role"),
        Always,
        "Rolle des Landkreises nach Art. 3 KI-VO.",
    ),
    field(
        "risk_class",
        Kind::Choice("risk_class"),
        Always,
        "Risikoklasse nach der KI-VO.",
    ),
    field(
        "risk_rationale",
        Kind::Text(LONG),
        Always,
        "Begründung der Risikoklasse (Art. 6 Abs. 4 KI-VO).",
    ),
    field(
        "art5_check",
        Kind::Table(ART5_CHECK),
        Always,
        "Prüfung auf verbotene Praktiken nach Art. 5 KI-VO.",
    ),
    field(
        "annex_iii_area",
        Kind::NumberChoice("annex_iii_area"),
        Req::When(Cond::HighOrException),
        "Bereich nach Anhang III KI-VO (1–8).",
    ),
    field(
        "profiling",
        Kind::Bool,
        Req::When(Cond::HighOrException),
        "Ob das System Profiling natürlicher Personen vornimmt.",
    ),
    Field {
        default: IfAbsent::Bool(false),
        ..field(
            "art6_3_exception",
            Kind::Bool,
            Optional,
            "Ob die Ausnahme nach Art. 6 Abs. 3 KI-VO in Anspruch genommen wird.",
        )
    },
    field(
        "art50_duties",
        Kind::Choices("art50_duties"),
        Req::When(Cond::RiskClassIs("transparency")),
        "Transparenzpflichten nach Art. 50 KI-VO.",
    ),
    field(
        "eu_db_url",
        Kind::Url,
        Optional,
        "Eintrag in der EU-Datenbank (Art. 49 Abs. 3 KI-VO); Pflicht nach E5.",
    ),
    field(
        "fria",
        Kind::Table(FRIA),
        Optional,
        "Grundrechte-Folgenabschätzung (Art. 27 KI-VO); Pflicht nach E5.",
    ),
    field(
        "log_retention_months",
        Kind::Int { min: 6, max: 600 },
        HIGH,
        "Aufbewahrung der Protokolle in Monaten, mindestens 6 (Art. 26 Abs. 6 KI-VO).",
    ),
    field(
        "workers_reps_informed",
        Kind::Date,
        HIGH,
        "Datum der Information der Personalvertretung (Art. 26 Abs. 7 KI-VO).",
    ),
    field("purpose", Kind::Text(LONG), Always, "Zweck des Einsatzes."),
    field(
        "decision_effect",
        Kind::Choice("decision_effect"),
        Always,
        "Wirkung auf Entscheidungen über Personen.",
    ),
    field(
        "proportionality",
        Kind::Text(LONG),
        DECIDES,
        "Abwägung von Nutzen und Eingriff.",
    ),
    field(
        "appeal",
        Kind::Text(LONG),
        DECIDES,
        "Wie Betroffene widersprechen oder eine Überprüfung verlangen.",
    ),
    field(
        "legal_basis",
        Kind::Tables(LEGAL_BASIS),
        DECIDES,
        "Rechtsgrundlagen des Einsatzes.",
    ),
    field(
        "human_oversight",
        Kind::Text(LONG),
        NOT_PLANNED,
        "Wie Menschen das System beaufsichtigen.",
    ),
    field("risks", Kind::Texts(LONG), NOT_PLANNED, "Erkannte Risiken."),
    field(
        "data_sources",
        Kind::Texts(LONG),
        NOT_PLANNED,
        "Verwendete Datenquellen.",
    ),
    field(
        "personal_data",
        Kind::Choice("personal_data"),
        Always,
        "Ob personenbezogene Daten verarbeitet werden.",
    ),
    field(
        "dpia_reason",
        Kind::Text(LONG),
        Optional,
        "Begründung, warum keine Datenschutz-Folgenabschätzung vorliegt (E7).",
    ),
    field(
        "hosting",
        Kind::Choice("hosting"),
        Always,
        "Wer das System betreibt (Punkt 3 des Antrags).",
    ),
    field(
        "hosting_provider",
        Kind::Text(SHORT),
        THIRD_PARTY,
        "Name des Betreibers.",
    ),
    field(
        "data_location",
        Kind::Choice("data_location"),
        Always,
        "Wo die Daten verarbeitet werden.",
    ),
    field(
        "models",
        Kind::Tables(MODEL),
        Always,
        "Verwendete KI-Modelle.",
    ),
    field(
        "oss_deviation_reason",
        Kind::Text(LONG),
        Optional,
        "Begründung der Abweichung vom Open-Source-Vorrang (W1).",
    ),
    field(
        "impact_assessments",
        Kind::Tables(ASSESSMENT),
        NOT_PLANNED,
        "Folgenabschätzungen und Prüfungen.",
    ),
    field(
        "training",
        Kind::Trainings,
        IN_OPERATION,
        "Pflichtschulungen der Nutzenden (Modul-ids, Art. 4 KI-VO).",
    ),
    field(
        "transparency_limits",
        Kind::Text(LONG),
        Optional,
        "Was aus welchem Grund nicht veröffentlicht wird.",
    ),
    field(
        "source_code_url",
        Kind::Url,
        Optional,
        "Adresse des Quellcodes.",
    ),
    field(
        "last_reviewed",
        Kind::Date,
        Always,
        "Datum der letzten Überprüfung des Eintrags.",
    ),
    Field {
        default: IfAbsent::Int(12),
        ..field(
            "review_interval_months",
            Kind::Int { min: 1, max: 120 },
            Optional,
            "Überprüfungsintervall in Monaten (Standard 12).",
        )
    },
    field(
        "schema_version",
        Kind::Const(SCHEMA_VERSION),
        Always,
        "Version dieses Schemas.",
    ),
    field(
        "example",
        Kind::Bool,
        Always,
        "Ob der Eintrag ein Beispiel ist.",
    ),
    field(
        "unverified",
        Kind::FieldNames,
        Optional,
        "Felder, deren Angaben nicht bestätigt sind.",
    ),
];

/// A top-level field by name.
pub fn top(name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.name == name)
}

/// The JSON Schema (draft 2020-12) of one entry as `register.json` publishes it: every key present, absent
/// optional values `null` (lists `[]`), vocabularies, roles and training modules as the site defines them.
pub fn json_schema(
    vocab: &Vocabularies,
    roles: &[&str],
    training: &[&str],
    schema_id: &str,
) -> Json {
    let ctx = SchemaContext {
        vocab,
        roles,
        training,
    };
    let mut all_of: Vec<Json> = FIELDS
        .iter()
        .filter_map(|f| match f.req {
            Req::When(cond) => Some(json!({
                "if": cond.json(),
                "then": { "properties": { f.name: present(f.kind) } },
            })),
            _ => None,
        })
        .collect();
    all_of.extend(rule_schemas());
    let mut schema = object_schema(FIELDS, &ctx);
    let object = schema.as_object_mut().expect("an object schema");
    let mut head = serde_json::Map::new();
    head.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    head.insert("$id".into(), json!(schema_id));
    head.insert("title".into(), json!("Eintrag im KI-Register"));
    head.insert(
        "description".into(),
        json!(format!(
            "Ein KI-System im KI-Register, Schema-Version {SCHEMA_VERSION}. Die Regeln E1–E7 sind als allOf abgebildet."
        )),
    );
    head.append(object);
    head.insert("allOf".into(), Json::Array(all_of));
    Json::Object(head)
}

/// The rules E3–E7 as JSON Schema.
fn rule_schemas() -> Vec<Json> {
    vec![
        // E3: retired_on exactly when retired.
        json!({
            "if": { "properties": { "status": { "const": "retired" } } },
            "then": { "properties": { "retired_on": { "type": "string" } } },
            "else": { "properties": { "retired_on": { "type": "null" } } },
        }),
        // E4: no prohibited practice in pilot or use.
        json!({
            "if": { "properties": { "risk_class": { "const": "prohibited" } } },
            "then": { "properties": { "status": { "not": { "enum": ["pilot", "in_use"] } } } },
        }),
        // E5: high risk as deployer outside Annex III area 2 needs the EU database entry and a FRIA.
        json!({
            "if": { "properties": {
                "risk_class": { "const": "high" },
                "ai_act_role": { "enum": ["deployer", "both"] },
                "annex_iii_area": { "type": "integer", "not": { "const": 2 } },
            } },
            "then": { "properties": { "eu_db_url": { "type": "string" }, "fria": { "type": "object" } } },
        }),
        // E6: no Art. 6(3) exception with profiling.
        json!({
            "not": { "properties": {
                "art6_3_exception": { "const": true },
                "profiling": { "const": true },
            } },
        }),
        // E7: personal data needs a DPIA or a stated reason.
        json!({
            "if": { "properties": { "personal_data": { "not": { "const": "none" } } } },
            "then": { "anyOf": [
                { "properties": { "impact_assessments": { "contains": { "properties": { "type": { "const": "dpia" } } } } } },
                { "properties": { "dpia_reason": { "type": "string", "minLength": 1 } } },
            ] },
        }),
    ]
}

struct SchemaContext<'a> {
    vocab: &'a Vocabularies,
    roles: &'a [&'a str],
    training: &'a [&'a str],
}

/// What "present" means for a conditionally required field: not null, or a non-empty list.
fn present(kind: Kind) -> Json {
    if kind.is_list() {
        json!({ "minItems": 1 })
    } else {
        json!({ "not": { "type": "null" } })
    }
}

fn object_schema(fields: &[Field], ctx: &SchemaContext) -> Json {
    let mut properties = serde_json::Map::new();
    for f in fields {
        let mut schema = value_schema(f.kind, ctx);
        if let Some(obj) = schema.as_object_mut() {
            obj.insert("description".into(), json!(f.doc));
        }
        let nullable = !matches!(f.req, Req::Always)
            && !f.kind.is_list()
            && matches!(f.default, IfAbsent::None);
        if matches!(f.req, Req::Always) && f.kind.is_list() {
            schema["minItems"] = json!(1);
        }
        let schema = if nullable {
            json!({ "anyOf": [schema, { "type": "null" }] })
        } else {
            schema
        };
        properties.insert(f.name.into(), schema);
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": fields.iter().map(|f| f.name).collect::<Vec<_>>(),
        "additionalProperties": false,
    })
}

fn value_schema(kind: Kind, ctx: &SchemaContext) -> Json {
    const DATE: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
    match kind {
        Kind::Id => json!({ "type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$" }),
        Kind::Text(max) => json!({ "type": "string", "maxLength": max }),
        Kind::Texts(max) => {
            json!({ "type": "array", "items": { "type": "string", "maxLength": max } })
        }
        Kind::Const(v) => json!({ "type": "string", "const": v }),
        Kind::Choice(name) => json!({ "type": "string", "enum": ctx.vocab.ids(name) }),
        Kind::Choices(name) => json!({
            "type": "array",
            "items": { "type": "string", "enum": ctx.vocab.ids(name) },
        }),
        Kind::NumberChoice(name) => json!({
            "type": "integer",
            "enum": ctx.vocab.ids(name).iter().filter_map(|id| id.parse::<i64>().ok()).collect::<Vec<_>>(),
        }),
        Kind::Bool => json!({ "type": "boolean" }),
        Kind::Int { min, max } => json!({ "type": "integer", "minimum": min, "maximum": max }),
        Kind::Date => json!({ "type": "string", "format": "date", "pattern": DATE }),
        Kind::Month => json!({ "type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])$" }),
        Kind::Url => json!({ "type": "string", "format": "uri", "pattern": "^https?://[^\\s/]+" }),
        Kind::Mailbox => {
            json!({ "type": "string", "pattern": r"^$|^[^@\s]+@[^@\s.][^@\s]*\.[^@\s]*[^@\s.]$" })
        }
        Kind::Role => json!({ "type": "string", "enum": ctx.roles }),
        Kind::Trainings => {
            json!({ "type": "array", "items": { "type": "string", "enum": ctx.training } })
        }
        Kind::FieldNames => json!({
            "type": "array",
            "items": { "type": "string", "enum": FIELDS.iter().map(|f| f.name).collect::<Vec<_>>() },
        }),
        Kind::Table(fields) => object_schema(fields, ctx),
        Kind::Tables(fields) => json!({ "type": "array", "items": object_schema(fields, ctx) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_editor_documentation_names_every_field_and_vocabulary() {
        let docs =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/register.md"))
                .expect("docs/register.md exists");
        for f in FIELDS {
            assert!(
                docs.contains(&format!("`{}`", f.name)),
                "docs/register.md lacks `{}`",
                f.name
            );
            if let Kind::Table(sub) | Kind::Tables(sub) = f.kind {
                for s in sub {
                    assert!(
                        docs.contains(&format!("`{}`", s.name)),
                        "docs lack `{}.{}`",
                        f.name,
                        s.name
                    );
                }
            }
        }
        for name in crate::content::vocab::NAMES {
            assert!(
                docs.contains(&format!("`{name}`")),
                "docs lack vocabulary `{name}`"
            );
        }
    }

    #[test]
    fn conditions_refer_to_built_in_ids() {
        let vocab = Vocabularies::default();
        let check = |vocabulary: &str, id: &str| {
            assert!(
                vocab.term(vocabulary, id).is_some(),
                "{vocabulary} lacks {id}"
            )
        };
        for f in FIELDS {
            if let Req::When(cond) = f.req {
                match cond {
                    Cond::StatusIsNot(v) => check("status", v),
                    Cond::StatusIsOneOf(vs) => vs.iter().for_each(|v| check("status", v)),
                    Cond::RiskClassIs(v) => check("risk_class", v),
                    Cond::HighOrException => check("risk_class", "high"),
                    Cond::DecisionEffectIsNot(v) => check("decision_effect", v),
                    Cond::HostingIsNot(v) => check("hosting", v),
                }
            }
        }
        for (vocabulary, id) in [
            ("status", "retired"),
            ("risk_class", "prohibited"),
            ("ai_act_role", "deployer"),
            ("ai_act_role", "both"),
            ("personal_data", "none"),
            ("licence", "proprietary"),
            ("data_location", "third_country"),
            ("assessment_type", "dpia"),
        ] {
            check(vocabulary, id);
        }
    }
}
