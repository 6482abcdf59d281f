//! Micro-benchmarks of the hot inner pieces of a build, with divan: `cargo bench` (BENCHMARKS.md,
//! „Micro-benchmarks“). Each works on the shipped site (the repository root), checked once before it runs.
//! Timings are only reported; no test depends on them.

use std::path::Path;

use divan::Bencher;
use regelwerk::Checked;
use regelwerk::compare::{self, Block, DiffLabels};
use regelwerk::content::register::{self, Entry};
use regelwerk::content::{Doc, GuidelineMeta, RenderSettings, frontmatter, render_body};
use regelwerk::diagnostics::SourceText;
use regelwerk::markdown::Labels;
use regelwerk::validate::{self, Context};

fn main() {
    divan::main();
}

/// The guideline the Markdown and Synopse benchmarks use: the longest shipped one (12.5 KB, tables, lists,
/// links to other guidelines).
const GUIDELINE: &str = "datenschutz-ki-vo";
/// The register entry of the validation benchmark: the longest shipped one (suppliers, a proprietary model).
const ENTRY: &str = "llmoin";
const ENTRY_TOML: &str = include_str!("../content/register/llmoin.toml");

/// The shipped site, read and validated as `regelwerk check` does.
fn shipped_site() -> Checked {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (checked, diagnostics) = regelwerk::check(root, None, regelwerk::today());
    checked.unwrap_or_else(|| panic!("the shipped site has errors: {diagnostics:?}"))
}

fn guideline(site: &Checked) -> &Doc<GuidelineMeta> {
    site.content
        .guidelines
        .iter()
        .find(|d| d.id == GUIDELINE)
        .expect("the shipped guideline exists")
}

fn settings<'a>(site: &'a Checked, labels: &'a Labels) -> RenderSettings<'a> {
    RenderSettings {
        allow_html: site.config.markdown.allow_html,
        labels,
        base_path: &site.config.base_path,
    }
}

/// Markdown → HTML of one guideline body, with heading ids, table of contents and link resolution.
#[divan::bench]
fn markdown_guideline(bencher: Bencher) {
    let site = shipped_site();
    let doc = guideline(&site);
    let body_start = frontmatter::split(&doc.source)
        .expect("valid front matter")
        .body_start;
    let labels = site.theme.markdown_labels();
    let settings = settings(&site, &labels);
    bencher.bench_local(|| {
        render_body(
            &doc.source,
            body_start,
            &doc.url_path,
            &site.content.published,
            &settings,
        )
    });
}

/// One Synopse: the guideline against an edited version of it (two blocks changed, one moved, one
/// inserted, one deleted). The blocks are split and rendered beforehand, as the history stage does once
/// per version; measured is the comparison with its word diffs.
#[divan::bench]
fn synopse(bencher: Bencher) {
    let site = shipped_site();
    let doc = guideline(&site);
    let labels = site.theme.markdown_labels();
    let settings = settings(&site, &labels);
    let body = &doc.source.text[frontmatter::split(&doc.source)
        .expect("valid front matter")
        .body_start..];
    let old: Vec<String> = compare::split_blocks(body)
        .into_iter()
        .map(|r| body[r].trim_end().to_string())
        .collect();
    assert!(old.len() > 20, "the guideline has {} blocks", old.len());
    let mut new = old.clone();
    new[5] = new[5].replacen(" die ", " jede ", 1) + " Das gilt auch für Pilotprojekte.";
    new[9] = new[9].replacen(" und ", " sowie ", 1);
    let moved = new.remove(3);
    new.insert(16, moved);
    new.insert(
        8,
        "Die KI-Beauftragte berichtet dem Kreistag jährlich über den Stand.".into(),
    );
    new.remove(20);
    let blocks = |texts: &[String]| -> Vec<Block> {
        texts
            .iter()
            .map(|markdown| {
                let source = SourceText::new(doc.source.path.clone(), markdown.clone());
                let html = render_body(
                    &source,
                    0,
                    &doc.url_path,
                    &site.content.published,
                    &settings,
                )
                .html
                .into_string();
                Block {
                    markdown: markdown.clone(),
                    html,
                }
            })
            .collect()
    };
    let (old, new) = (blocks(&old), blocks(&new));
    let diff_labels = DiffLabels {
        deleted: "gelöscht:",
        inserted: "eingefügt:",
    };
    let summary = compare::compare(&old, &new, &diff_labels).summary;
    assert!(
        summary.moved == 1 && summary.changed >= 2,
        "unexpected comparison: {summary:?}"
    );
    bencher.bench_local(|| compare::compare(&old, &new, &diff_labels));
}

/// One register entry read and checked: TOML parsing, every field against the schema (E1, E2, E10, E11,
/// S2, S3) and the rules across its fields, roles and training modules (E3–E8, W1–W4).
#[divan::bench]
fn register_entry(bencher: Bencher) {
    let site = shipped_site();
    let generated = regelwerk::render::generated_paths(&site.theme, &site.content);
    let context = Context {
        config: &site.config,
        generated_paths: &generated,
        today: regelwerk::today(),
    };
    let path = format!("{}/{ENTRY}.toml", register::REGISTER_DIR);
    bencher.bench_local(|| {
        let source = SourceText::new(path.clone(), ENTRY_TOML);
        let (record, mut diagnostics) = register::parse(&source, ENTRY, &site.content.vocabularies);
        let entry = Entry {
            valid: !diagnostics.iter().any(|d| d.is_error()),
            source,
            id: ENTRY.to_string(),
            url_path: register::url_path(ENTRY),
            record,
        };
        diagnostics.extend(validate::register_entry(&entry, &site.content, &context));
        diagnostics
    });
}
