//! Every rule shown in docs/rules.md compiles: the examples people copy
//! must not name facts that do not exist.

use std::path::Path;

use airlock_core::Config;

#[test]
fn every_yaml_example_in_the_rules_doc_loads() {
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/rules.md");
    let doc = std::fs::read_to_string(&doc_path).expect("docs/rules.md");
    let mut checked = 0;
    for block in doc.split("```yaml").skip(1) {
        let Some(end) = block.find("```") else {
            continue;
        };
        let body = &block[..end];
        // A bare list of rules, or a fragment with `rules:` / `policy:`.
        let config = if body.trim_start().starts_with("- name") {
            format!("rules:\n{}", indent(body))
        } else if body.contains("rules:") {
            body.to_string()
        } else {
            continue;
        };
        if let Err(e) = Config::parse(Path::new("docs/rules.md"), &config) {
            panic!("example does not load: {e}\n---\n{config}");
        }
        checked += 1;
    }
    assert!(checked >= 6, "expected the doc's examples, found {checked}");
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}
