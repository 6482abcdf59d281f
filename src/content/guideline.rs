//! Guidelines (`content/leitlinien/*.md`): the policy documents, with status, owner, validity, adoption
//! and review dates in their front matter.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::content::fields::{FieldReader, Located, Need, is_slug};
use crate::diagnostics::{Rule, SourceText};

/// Where a guideline stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Status {
    /// A draft: not (yet) adopted.
    Entwurf,
    /// Adopted by a council body and in force from `gueltig_ab`.
    Beschlossen,
    /// Repealed: kept for the record.
    Aufgehoben,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Beschlossen, Status::Entwurf, Status::Aufgehoben];

    /// The value written in front matter, also used in CSS classes and translation keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Entwurf => "entwurf",
            Status::Beschlossen => "beschlossen",
            Status::Aufgehoben => "aufgehoben",
        }
    }

    fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// The decision that adopted a guideline.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Beschluss {
    /// The council body, e.g. „Kreistag“.
    pub gremium: String,
    pub datum: NaiveDate,
    /// The council paper, e.g. „2026/052“.
    pub vorlage: String,
    /// Link to the decision in the council information system.
    pub url: Option<String>,
}

/// When a guideline was last reviewed and how often it must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub last: NaiveDate,
    pub interval_months: u32,
}

impl Review {
    /// The date the next review is due.
    pub fn next(&self) -> NaiveDate {
        self.last
            .checked_add_months(Months::new(self.interval_months))
            .unwrap_or(NaiveDate::MAX)
    }
}

/// The validated front matter of a guideline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuidelineMeta {
    /// Stable across renames of the file: URLs and history use it.
    pub id: Located<String>,
    pub title: String,
    pub summary: String,
    pub status: Status,
    /// Role id of the role responsible for the text.
    pub owner: Located<String>,
    pub gueltig_ab: Option<NaiveDate>,
    pub beschluss: Option<Beschluss>,
    pub review: Option<Located<Review>>,
    /// Position in lists; guidelines without one follow, by title.
    pub order: Option<i64>,
}

/// Reads guideline front matter (the TOML at `toml` in `source`), reporting every problem.
pub fn read_meta(
    source: &SourceText,
    toml: std::ops::Range<usize>,
    anchor: std::ops::Range<usize>,
) -> (Option<GuidelineMeta>, Vec<crate::diagnostics::Diagnostic>) {
    let mut r = FieldReader::new(source, toml.start);
    let Some(doc) = r.parse(&source.text[toml]) else {
        return (None, r.into_diagnostics());
    };
    let mut t = r.root(&doc, anchor);
    let id = r.text(&mut t, "id", Need::Required, Some(80));
    if let Some(id) = &id
        && !id.value.is_empty()
        && !is_slug(&id.value)
    {
        r.report_at(
            id.span.clone(),
            Rule::E9,
            format!(
                "Die id „{}“ ist ungültig. Verwenden Sie nur Kleinbuchstaben a–z, Ziffern und einzelne Bindestriche, \
                 z. B. \"datenschutz-ki\". Die id bildet die dauerhafte Adresse der Leitlinie.",
                id.value
            ),
        );
    }
    let title = r.text(&mut t, "title", Need::Required, Some(100));
    let summary = r.text(&mut t, "summary", Need::Required, Some(400));
    let status = r.choice(
        &mut t,
        "status",
        Need::Required,
        &["entwurf", "beschlossen", "aufgehoben"],
    );
    let status = status.and_then(|s| Status::parse(&s.value));
    let owner = r.text(&mut t, "owner", Need::Required, None);
    let adopted = matches!(status, Some(Status::Beschlossen | Status::Aufgehoben));
    let because = match status {
        Some(Status::Aufgehoben) => "status = aufgehoben",
        _ => "status = beschlossen",
    };
    let gueltig_ab = r.date(
        &mut t,
        "gueltig_ab",
        if adopted {
            Need::RequiredBecause(because)
        } else {
            Need::Optional
        },
    );
    let beschluss = r
        .table(
            &mut t,
            "beschluss",
            if adopted {
                Need::RequiredBecause(because)
            } else {
                Need::Optional
            },
        )
        .and_then(|mut b| {
            let gremium = r.text(&mut b, "gremium", Need::Required, Some(100));
            let datum = r.date(&mut b, "datum", Need::Required);
            let vorlage = r.text(&mut b, "vorlage", Need::Required, Some(50));
            let url = r.url(&mut b, "url", Need::Optional);
            r.finish(b);
            Some(Beschluss {
                gremium: gremium?.value,
                datum: datum?.value,
                vorlage: vorlage?.value,
                url: url.map(|u| u.value),
            })
        });
    let review = r
        .table(&mut t, "review", Need::Optional)
        .and_then(|mut rv| {
            let anchor = rv.anchor();
            let last = r.date(&mut rv, "last", Need::Required);
            let interval = r.integer(&mut rv, "interval_months", Need::Optional, 1..=120);
            r.finish(rv);
            Some(Located::new(
                Review {
                    last: last?.value,
                    interval_months: interval.map_or(12, |i| i.value as u32),
                },
                anchor,
            ))
        });
    let order = r.integer(&mut t, "order", Need::Optional, 0..=100_000);
    r.finish(t);
    let diagnostics = r.into_diagnostics();
    if diagnostics.iter().any(|d| d.is_error()) {
        return (None, diagnostics);
    }
    let meta = (|| {
        Some(GuidelineMeta {
            id: id?,
            title: title?.value,
            summary: summary?.value,
            status: status?,
            owner: owner?,
            gueltig_ab: gueltig_ab.map(|d| d.value),
            beschluss,
            review,
            order: order.map(|o| o.value),
        })
    })();
    (meta, diagnostics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::frontmatter;

    fn read(text: &str) -> (Option<GuidelineMeta>, Vec<crate::diagnostics::Diagnostic>) {
        let source = SourceText::new("content/leitlinien/x.md", text);
        let split = frontmatter::split(&source).unwrap();
        read_meta(&source, split.toml, split.opening)
    }

    const VALID: &str = "+++\nid = \"x\"\ntitle = \"T\"\nsummary = \"S\"\nstatus = \"entwurf\"\nowner = \"ki\"\n\n[review]\nlast = 2026-01-31\ninterval_months = 1\n+++\nText\n";

    #[test]
    fn reads_a_valid_draft() {
        let (meta, diags) = read(VALID);
        assert!(diags.is_empty(), "{diags:?}");
        let meta = meta.unwrap();
        assert_eq!(meta.status, Status::Entwurf);
        assert_eq!(
            meta.review.unwrap().value.next(),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
    }

    #[test]
    fn adopted_guidelines_need_a_decision_and_a_date() {
        let (meta, diags) = read(&VALID.replace("entwurf", "beschlossen"));
        assert!(meta.is_none());
        let got: Vec<_> = diags.iter().map(|d| (d.rule, d.line)).collect();
        assert_eq!(got, [(Rule::E1, 1), (Rule::E1, 1)]);
        assert!(diags[0].message.contains("weil status = beschlossen"));
    }

    #[test]
    fn malformed_ids_are_e9() {
        let (_, diags) = read(&VALID.replace("id = \"x\"", "id = \"Mein Text\""));
        assert_eq!((diags[0].rule, diags[0].line), (Rule::E9, 2));
    }
}
