//! Rules of the KI-Register that look at more than one field or file: E3–E7 (the AI Act and GDPR rules
//! within an entry), E8 (roles), E9 (duplicate ids), E2 for training modules, W1, W2, W4, and W3 (reviews,
//! measured against the context's date).

use std::collections::BTreeMap;

use crate::content::Content;
use crate::content::register::Entry;
use crate::content::roles::ROLES_FILE;
use crate::content::training::TRAINING_FILE;
use crate::diagnostics::{Diagnostic, Rule};
use crate::validate::Context;

/// Local parts (or parts of them) that name a function, not a person: `ki.beauftragte@…` is functional.
/// The W4 heuristic: a local part of exactly two alphabetic parts joined by a dot (`anna.schmidt`,
/// `a.schmidt`) looks like a person, unless either part is one of these words.
const FUNCTIONAL_WORDS: &[&str] = &[
    "ki",
    "info",
    "information",
    "poststelle",
    "post",
    "datenschutz",
    "kontakt",
    "service",
    "buergerservice",
    "bürgerservice",
    "register",
    "it",
    "support",
    "helpdesk",
    "servicedesk",
    "hilfe",
    "presse",
    "verwaltung",
    "zentrale",
    "office",
    "team",
    "mail",
    "webmaster",
    "admin",
    "digital",
    "digitalisierung",
    "fachdienst",
    "fachbereich",
    "amt",
    "sekretariat",
    "leitung",
    "landrat",
    "landraetin",
    "landrätin",
    "buero",
    "büro",
    "beschwerde",
    "beschwerden",
    "anfragen",
    "sicherheit",
    "informationssicherheit",
    "personalrat",
    "kreistag",
    "stabsstelle",
    "beauftragte",
    "beauftragter",
    "lenkungskreis",
    "organisation",
    "rechtsamt",
    "jugendamt",
    "sozialamt",
    "bauamt",
    "ordnungsamt",
    "gesundheitsamt",
];

/// Whether an e-mail address looks like a personal rather than a functional mailbox (W4, a heuristic).
pub fn looks_personal(address: &str) -> bool {
    let Some((local, _)) = address.split_once('@') else {
        return false;
    };
    let local = local.to_lowercase();
    let parts: Vec<&str> = local.split('.').collect();
    parts.len() == 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(char::is_alphabetic))
        && !parts.iter().any(|p| FUNCTIONAL_WORDS.contains(p))
}

pub fn check(content: &Content, context: &Context) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut first: BTreeMap<&str, &str> = BTreeMap::new();
    for entry in &content.register {
        if let Some(id) = entry.record.text("id")
            && let Some(other) = first.insert(id, &entry.source.path)
        {
            diagnostics.push(at(
                entry,
                "id",
                Rule::E9,
                format!(
                    "Die id „{id}“ wird schon von {other} verwendet. Jedes KI-System braucht eine eigene, dauerhafte id."
                ),
            ));
        }
        check_entry(entry, content, context, &mut diagnostics);
    }
    diagnostics
}

fn at(entry: &Entry, field: &str, rule: Rule, message: String) -> Diagnostic {
    Diagnostic::at(&entry.source, entry.record.span(field), rule, message)
}

pub(super) fn check_entry(
    entry: &Entry,
    content: &Content,
    context: &Context,
    out: &mut Vec<Diagnostic>,
) {
    let r = &entry.record;
    let status = r.text("status");
    let risk_class = r.text("risk_class");

    // E3: retired_on exactly when the system is retired.
    match status {
        Some("retired") if !r.has("retired_on") => out.push(at(
            entry,
            "status",
            Rule::E3,
            "status = retired verlangt das Feld „retired_on“ mit dem Monat der Außerbetriebnahme, \
             z. B. retired_on = \"2026-06\"."
                .into(),
        )),
        Some(s) if s != "retired" && r.has("retired_on") => out.push(at(
            entry,
            "retired_on",
            Rule::E3,
            format!(
                "„retired_on“ ist gesetzt, aber status = {s}. Setzen Sie status = \"retired\", wenn das System außer \
                 Betrieb ist, oder entfernen Sie „retired_on“."
            ),
        )),
        _ => {}
    }

    // E4: a prohibited practice must not be tried or used.
    if risk_class == Some("prohibited")
        && let Some(s @ ("pilot" | "in_use")) = status
    {
        out.push(at(
            entry,
            "status",
            Rule::E4,
            format!(
                "Ein System mit risk_class = prohibited darf nicht erprobt oder eingesetzt werden (Art. 5 KI-VO), \
                 hier ist status = {s}. Beenden Sie den Einsatz (status = \"retired\") oder prüfen Sie die \
                 Risikoklasse."
            ),
        ));
    }

    // E5: high risk as deployer outside Annex III area 2: EU database and FRIA (Art. 49(3), Art. 27).
    let deployer = matches!(r.text("ai_act_role"), Some("deployer" | "both"));
    let area = r.int("annex_iii_area");
    if risk_class == Some("high")
        && deployer
        && let Some(area) = area.filter(|a| *a != 2)
    {
        for (field, what) in [
            (
                "eu_db_url",
                "die Adresse der Registrierung in der EU-Datenbank (Art. 49 Abs. 3 KI-VO)",
            ),
            (
                "fria",
                "eine Grundrechte-Folgenabschätzung [fria] mit process, period, affected_groups, risks, oversight, \
                 measures, date und summary (Art. 27 KI-VO)",
            ),
        ] {
            if !r.has(field) {
                out.push(at(
                    entry,
                    "risk_class",
                    Rule::E5,
                    format!(
                        "Als Betreiber eines Hochrisiko-KI-Systems im Bereich {area} des Anhangs III fehlt „{field}“: \
                         Ergänzen Sie {what}."
                    ),
                ));
            }
        }
    }

    // E6: the Art. 6(3) exception cannot be claimed for a system that profiles people.
    if r.bool("art6_3_exception") == Some(true) && r.bool("profiling") == Some(true) {
        out.push(at(
            entry,
            "art6_3_exception",
            Rule::E6,
            "art6_3_exception = true ist mit profiling = true nicht vereinbar: Ein System nach Anhang III, das \
             Profiling vornimmt, gilt immer als hochriskant (Art. 6 Abs. 3 Unterabs. 3 KI-VO). Setzen Sie \
             art6_3_exception = false und risk_class = \"high\"."
                .into(),
        ));
    }

    // E7: personal data needs a DPIA or the reason why there is none.
    if let Some(personal) = r.text("personal_data").filter(|p| *p != "none") {
        let has_dpia = r
            .tables("impact_assessments")
            .any(|a| a.text("type") == Some("dpia"));
        if !has_dpia && r.filled("dpia_reason").is_none() {
            out.push(at(
                entry,
                "personal_data",
                Rule::E7,
                format!(
                    "personal_data = {personal}, aber es gibt weder eine Datenschutz-Folgenabschätzung \
                     ([[impact_assessments]] mit type = \"dpia\") noch eine Begründung in „dpia_reason“, warum keine \
                     nötig ist (Art. 35 DSGVO). Ergänzen Sie eines von beiden."
                ),
            ));
        }
    }

    // E8: roles must be defined.
    let mut roles = vec![("accountable_role", r)];
    if let Some(approval) = r.table("approval") {
        roles.push(("by_role", approval));
    }
    for (field, record) in roles {
        let Some(role) = record.text(field) else {
            continue;
        };
        if content.roles.get(role).is_none() {
            let hint = if content.roles.file_exists {
                let ids: Vec<&str> = content.roles.by_id.keys().map(String::as_str).collect();
                format!("Definierte Rollen: {}.", ids.join(", "))
            } else {
                format!("Legen Sie die Rollen in {ROLES_FILE} an.")
            };
            out.push(Diagnostic::at(
                &entry.source,
                record.span(field),
                Rule::E8,
                format!("Die Rolle „{role}“ in „{field}“ ist nicht definiert. {hint}"),
            ));
        }
    }

    // E2: training modules must exist.
    for item in r.list("training") {
        let crate::content::register::Value::Text(id) = &item.value else {
            continue;
        };
        if content.training.get(id).is_none() {
            let hint = if content.training.file_exists {
                let ids: Vec<&str> = content.training.by_id.keys().map(String::as_str).collect();
                format!(
                    "Erlaubt sind die Module aus {TRAINING_FILE}: {}.",
                    ids.join(", ")
                )
            } else {
                format!("Legen Sie die Schulungsmodule in {TRAINING_FILE} an.")
            };
            out.push(Diagnostic::at(
                &entry.source,
                item.span.clone(),
                Rule::E2,
                format!("Das Schulungsmodul „{id}“ in „training“ gibt es nicht. {hint}"),
            ));
        }
    }

    // W1: proprietary models need a reason (motion M2).
    if r.filled("oss_deviation_reason").is_none() {
        for model in r.tables("models") {
            if model.text("licence") == Some("proprietary") {
                out.push(Diagnostic::at(
                    &entry.source,
                    model.span("licence"),
                    Rule::W1,
                    format!(
                        "Das Modell „{}“ ist proprietär, aber „oss_deviation_reason“ fehlt. Begründen Sie die \
                         Abweichung vom Open-Source-Vorrang (Punkt 2 des Antrags) oder wählen Sie ein offenes Modell.",
                        model.text("name").unwrap_or("?")
                    ),
                ));
            }
        }
    }

    // W2: processing in a third country needs a legal basis (DSGVO Art. 44 ff.).
    if r.text("data_location") == Some("third_country") && r.tables("legal_basis").next().is_none()
    {
        out.push(at(
            entry,
            "data_location",
            Rule::W2,
            "data_location = third_country, aber keine Rechtsgrundlage ist angegeben. Nennen Sie unter \
             [[legal_basis]] die Grundlage der Übermittlung (Art. 44 ff. DSGVO, z. B. Angemessenheitsbeschluss oder \
             Standardvertragsklauseln)."
                .into(),
        ));
    }

    // W3: the entry must be reviewed in time.
    if let (Some(last), Some(next)) = (r.date("last_reviewed"), entry.next_review())
        && next < context.today
    {
        out.push(at(
            entry,
            "last_reviewed",
            Rule::W3,
            format!(
                "Die Überprüfung des Eintrags war am {} fällig (letzte am {}, alle {} Monate). Prüfen Sie die Angaben \
                 und tragen Sie das neue Datum in „last_reviewed“ ein.",
                next.format("%d.%m.%Y"),
                last.format("%d.%m.%Y"),
                entry.review_interval()
            ),
        ));
    }

    // W4: a functional mailbox, not a person's.
    if let Some(mail) = r.filled("contact_email")
        && looks_personal(mail)
    {
        out.push(at(
            entry,
            "contact_email",
            Rule::W4,
            format!(
                "„{mail}“ sieht nach einem persönlichen Postfach aus (vorname.nachname). Tragen Sie ein \
                 Funktionspostfach ein, z. B. ki@…, damit die Adresse bei Personalwechseln gültig bleibt."
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_mailboxes_are_recognised() {
        assert!(looks_personal("anna.schmidt@landkreis.example"));
        assert!(looks_personal("j.müller@landkreis.example"));
        assert!(!looks_personal("ki@landkreis.example"));
        assert!(!looks_personal("ki.register@landkreis.example"));
        assert!(!looks_personal("datenschutz.beauftragte@landkreis.example"));
        assert!(!looks_personal("anna.schmidt2@landkreis.example"));
        assert!(!looks_personal("poststelle@landkreis.example"));
    }
}
