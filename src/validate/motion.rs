//! Motion traceability: every `umsetzt=` names a point of the motion (E2), and every point is implemented
//! by at least one guideline section (W7).

use std::collections::BTreeSet;

use crate::content::Content;
use crate::content::motion::MOTION_FILE;
use crate::diagnostics::{Diagnostic, Rule};

pub fn check(content: &Content) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut implemented: BTreeSet<&str> = BTreeSet::new();
    for (doc, _) in content.valid_guidelines() {
        for section in &doc.body.implements {
            for point in &section.points {
                match &content.motion {
                    Some(motion) if motion.point(point).is_some() => {
                        implemented.insert(point);
                    }
                    Some(motion) => {
                        let ids: Vec<&str> = motion.points.iter().map(|p| p.id.value.as_str()).collect();
                        diagnostics.push(Diagnostic::at(
                            &doc.source,
                            section.span.clone(),
                            Rule::E2,
                            format!(
                                "Der Abschnitt „{}“ verweist mit umsetzt= auf „{point}“, den der Antrag nicht enthält. \
                                 Erlaubt sind: {}.",
                                section.heading_title,
                                ids.join(", ")
                            ),
                        ));
                    }
                    None => diagnostics.push(Diagnostic::at(
                        &doc.source,
                        section.span.clone(),
                        Rule::E2,
                        format!(
                            "Der Abschnitt verweist mit umsetzt= auf „{point}“, aber die Website hat keine Datei \
                             {MOTION_FILE} mit den Punkten des Antrags. Legen Sie sie an oder entfernen Sie umsetzt=."
                        ),
                    )),
                }
            }
        }
    }
    if let Some(motion) = &content.motion {
        for point in &motion.points {
            if !implemented.contains(point.id.value.as_str()) {
                diagnostics.push(Diagnostic::at(
                    &motion.source,
                    point.id.span.clone(),
                    Rule::W7,
                    format!(
                        "Punkt {} des Antrags („{}“) setzt noch kein Abschnitt einer Leitlinie um. Kennzeichnen Sie den \
                         umsetzenden Abschnitt mit {{#anker umsetzt={}}} an seiner Überschrift.",
                        point.id.value, point.short, point.id.value
                    ),
                ));
            }
        }
    }
    diagnostics
}
