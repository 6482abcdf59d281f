//! The CI templates in `ci/` cannot run here: they must at least be valid YAML with the structure their
//! CI system expects, fetch the full history, check, summarise policy changes and deploy.

use std::path::Path;

use serde_yaml_ng::Value;

fn load(path: &str) -> (Value, String) {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{path}: {e}"));
    let value: Value =
        serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path} is not valid YAML: {e}"));
    (value, text)
}

fn scripts(value: &Value) -> String {
    let mut out = String::new();
    collect_strings(value, &mut out);
    out
}

fn collect_strings(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Sequence(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Mapping(map) => map.values().for_each(|v| collect_strings(v, out)),
        Value::Tagged(tagged) => collect_strings(&tagged.value, out),
        _ => {}
    }
}

fn assert_common(path: &str, text: &str) {
    for needle in [
        "cargo install --locked --git",
        "regelwerk check",
        "regelwerk diff \"origin/",
        "HEAD --format markdown",
        "regelwerk build --output public",
    ] {
        assert!(text.contains(needle), "{path} lacks {needle}");
    }
}

#[test]
fn gitlab_template_is_a_pipeline_with_code_quality_comment_and_pages() {
    let path = "ci/gitlab-ci.yml";
    let (ci, _) = load(path);
    let all = scripts(&ci);
    assert_common(path, &all);
    assert_eq!(ci["variables"]["GIT_DEPTH"].as_str(), Some("0"));
    let stages: Vec<&str> = ci["stages"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for job in ["check", "policy-summary", "pages"] {
        let stage = ci[job]["stage"].as_str().unwrap();
        assert!(
            stages.contains(&stage),
            "{job} has an unknown stage {stage}"
        );
        assert!(ci[job]["script"].is_sequence(), "{job} has no script");
    }
    assert_eq!(
        ci["check"]["artifacts"]["reports"]["codequality"].as_str(),
        Some("gl-code-quality-report.json")
    );
    assert!(all.contains("regelwerk check --format gitlab > gl-code-quality-report.json"));
    assert!(all.contains("/merge_requests/$CI_MERGE_REQUEST_IID/notes"));
    assert_eq!(
        ci["pages"]["artifacts"]["paths"][0].as_str(),
        Some("public")
    );
    assert!(
        ci["pages"]["rules"][0]["if"]
            .as_str()
            .unwrap()
            .contains("$CI_DEFAULT_BRANCH")
    );
}

fn workflow_steps(job: &Value) -> Vec<&Value> {
    job["steps"].as_sequence().unwrap().iter().collect()
}

fn assert_full_checkout(path: &str, workflow: &Value) {
    for (name, job) in workflow["jobs"].as_mapping().unwrap() {
        for step in workflow_steps(job) {
            if step["uses"]
                .as_str()
                .is_some_and(|u| u.contains("actions/checkout"))
            {
                assert_eq!(
                    step["with"]["fetch-depth"].as_u64(),
                    Some(0),
                    "{path}: job {name:?} checks out without full history"
                );
            }
        }
    }
}

#[test]
fn github_template_annotates_comments_and_deploys_pages() {
    let path = "ci/github/regelwerk.yml";
    let (workflow, _) = load(path);
    let all = scripts(&workflow);
    assert_common(path, &all);
    assert!(
        workflow["on"]["pull_request"].is_null() || workflow["on"]["pull_request"].is_mapping()
    );
    assert!(workflow["on"]["push"].is_mapping());
    assert_full_checkout(path, &workflow);
    assert!(all.contains("regelwerk check --format github"));
    assert!(all.contains("gh pr comment"));
    assert_eq!(
        workflow["jobs"]["check"]["permissions"]["pull-requests"].as_str(),
        Some("write")
    );
    let deploy = &workflow["jobs"]["deploy"];
    assert_eq!(deploy["needs"].as_str(), Some("build"));
    assert_eq!(deploy["permissions"]["pages"].as_str(), Some("write"));
    assert!(all.contains("actions/deploy-pages@"));
    assert!(all.contains("actions/upload-pages-artifact@"));
    // Untrusted values reach scripts through the environment, never through ${{ }} in `run`.
    for (_, job) in workflow["jobs"].as_mapping().unwrap() {
        for step in workflow_steps(job) {
            if let Some(run) = step["run"].as_str() {
                assert!(!run.contains("${{"), "{path}: expression inside run: {run}");
            }
        }
    }
}

#[test]
fn forgejo_template_comments_through_the_api_and_deploys() {
    let path = "ci/forgejo/regelwerk.yml";
    let (workflow, _) = load(path);
    let all = scripts(&workflow);
    assert_common(path, &all);
    assert_full_checkout(path, &workflow);
    assert!(all.contains("/issues/$PR/comments"));
    assert!(all.contains("git push --force"));
    let job = &workflow["jobs"]["regelwerk"];
    assert!(job["runs-on"].is_string());
    assert!(job["container"]["image"].is_string());
    for step in workflow_steps(job) {
        if let Some(run) = step["run"].as_str() {
            assert!(!run.contains("${{"), "{path}: expression inside run: {run}");
        }
    }
}
