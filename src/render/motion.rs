//! The motion page (`antrag/`): each point of the council motion in its own wording, with links to the
//! guideline sections that implement it.

use serde::Serialize;

use crate::content::Content;
use crate::render::{PageJob, Shared};

/// Site paths this module generates.
pub(crate) const GENERATED: &[&str] = &["antrag/"];

#[derive(Serialize)]
struct SectionContext {
    guideline_title: String,
    section_title: String,
    url: String,
    status: &'static str,
    status_label: String,
}

#[derive(Serialize)]
struct PointContext {
    id: String,
    /// The fragment of the point on the motion page (`m1`).
    anchor: String,
    short: String,
    text: String,
    sections: Vec<SectionContext>,
}

#[derive(Serialize)]
struct MotionContext {
    vorlage: String,
    title: String,
    points: Vec<PointContext>,
}

pub(crate) fn jobs(shared: &Shared, content: &Content) -> Vec<PageJob> {
    let Some(motion) = &content.motion else {
        return Vec::new();
    };
    let points = motion
        .points
        .iter()
        .map(|point| {
            let sections = content
                .valid_guidelines()
                .flat_map(|(doc, meta)| {
                    doc.body
                        .implements
                        .iter()
                        .filter(|s| s.points.contains(&point.id.value))
                        .map(move |s| SectionContext {
                            guideline_title: meta.title.clone(),
                            section_title: s.heading_title.clone(),
                            url: format!("{}#{}", shared.url(&doc.url_path), s.heading_id),
                            status: meta.status.as_str(),
                            status_label: shared.text(&format!("status_{}", meta.status.as_str())),
                        })
                })
                .collect();
            PointContext {
                id: point.id.value.clone(),
                anchor: point.id.value.to_ascii_lowercase(),
                short: point.short.clone(),
                text: point.text.clone(),
                sections,
            }
        })
        .collect();
    let context = MotionContext {
        vorlage: motion.vorlage.clone(),
        title: motion.title.clone(),
        points,
    };
    vec![shared.job("motion.html", "antrag/", |c| c.insert("motion", &context))]
}
