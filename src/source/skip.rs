//! Documents that are no Kubernetes object meshlint checks: skipped with a note (or quietly,
//! where walking a tree is bound to meet them), never input errors. Broken manifests are not
//! in this list: a document with `metadata` but no `kind`, or a Service without a name, is
//! still an input error.

use super::{Node, Pos, Value, sniff};

/// Why a document is left out, and whether to say so.
#[derive(Debug)]
pub(super) struct Skip {
    pub at: Pos,
    pub why: String,
    /// Files found by walking a tree hold Helm values, CI files and the like; those are left
    /// out without a word, as the README says.
    pub quiet: bool,
}

/// Install configurations read by an installer, not objects that shape the mesh's traffic:
/// (API group prefix, kind, what reads it).
const INSTALL_CONFIGS: &[(&str, &str, &str)] = &[
    (
        "install.istio.io/",
        "IstioOperator",
        "an install configuration for `istioctl install -f`; check what it installs (`istioctl manifest generate -f FILE`)",
    ),
    (
        "maistra.io/",
        "ServiceMeshControlPlane",
        "a Maistra (OpenShift Service Mesh) control-plane definition; check the control plane its operator deploys",
    ),
];

/// Keys of strategic-merge patch directives; no stored object has them.
const PATCH_DIRECTIVES: &[&str] = &[
    "$patch",
    "$retainKeys",
    "$setElementOrder/",
    "$deleteFromPrimitiveList/",
];

/// Whether `root` (a top-level document) is to be skipped, and why. A config dump is kept for
/// `envoy::load`.
pub(super) fn skip(root: &Node, walked: bool) -> Option<Skip> {
    let quiet = |why: &str| Skip {
        at: root.pos,
        why: why.to_string(),
        quiet: walked,
    };
    if sniff::yaml_is_dump(root) {
        return None;
    }
    match &root.value {
        Value::Seq(items) if !items.iter().any(looks_like_object) => {
            return Some(quiet(
                "a list that holds no Kubernetes object (a JSON patch, or another tool's file?)",
            ));
        }
        Value::Map(_) => {}
        _ => return None,
    }
    let kind = root.get("kind").and_then(Node::as_str);
    let api = root.get("apiVersion").and_then(Node::as_str);
    if api.is_some_and(|a| a.starts_with("kustomize.config.k8s.io/")) {
        return Some(quiet(
            "kustomize's own file; check the output of `kustomize build` instead",
        ));
    }
    if let Some(key) = patch_directive(root) {
        let name = key.as_str().unwrap_or_default();
        return Some(Skip {
            at: key.pos,
            why: format!(
                "a kustomize strategic-merge patch (`{name}`), not an object; check the output of `kustomize build` instead"
            ),
            quiet: false,
        });
    }
    if let (Some(api), Some(kind)) = (api, kind)
        && let Some((_, _, what)) = INSTALL_CONFIGS
            .iter()
            .find(|(group, k, _)| api.starts_with(group) && kind == *k)
    {
        return Some(Skip {
            at: root.pos,
            why: format!("{kind} is not an object meshlint checks: {what}"),
            quiet: false,
        });
    }
    let metadata = root.get("metadata").is_some();
    if kind.is_none() && !metadata {
        return Some(quiet(
            "no `kind` or `metadata`: not a Kubernetes object (Helm values, or another tool's configuration?)",
        ));
    }
    let list = kind.is_some_and(|k| k.ends_with("List")) && root.get("items").is_some();
    // Walked trees hold kind cluster configs, Chart.yaml and the like: `kind` or `apiVersion`,
    // but no `metadata`.
    if walked && !list && (!metadata || (api.is_none() && kind.is_none())) {
        return Some(quiet(
            "no `metadata`: not a Kubernetes object (a cluster or tool configuration?)",
        ));
    }
    None
}

/// The note for a file skipped as an unrendered template, quoting the template on `line`.
pub fn template_note(text: &str, line: u32) -> String {
    let quoted = text
        .lines()
        .nth(line.saturating_sub(1) as usize)
        .and_then(action)
        .map(|a| format!(" (`{a}`)"))
        .unwrap_or_default();
    format!(
        "skipped: this looks like an unrendered template{quoted}: render it first (`helm template`, or the tool that fills it in) and check the output"
    )
}

/// The first `{{ … }}` on a line, shortened to fit a note.
fn action(line: &str) -> Option<String> {
    const MAX: usize = 60;
    let start = line.find("{{")?;
    let end = line[start..]
        .find("}}")
        .map_or(line.len(), |e| start + e + 2);
    let action = &line[start..end];
    Some(if action.chars().count() > MAX {
        format!("{}…", action.chars().take(MAX - 1).collect::<String>())
    } else {
        action.to_string()
    })
}

/// For a file that is not valid YAML: where an unrendered template is, if the parse error is
/// at one (on its line or just after it). Helm's `{{- if }}` and `{{ include }}` lines are not
/// YAML; a syntax error elsewhere stays an input error, and so does one beside a `{{` inside a
/// quoted string (an alerting rule's text), which YAML reads fine.
pub(super) fn template_at_error(text: &str, line: u32) -> Option<Pos> {
    [line, line.saturating_sub(1)]
        .into_iter()
        .filter(|&l| l >= 1)
        .find_map(|l| {
            let text_line = text.lines().nth(l as usize - 1)?;
            let at = template_start(text_line)?;
            Some(Pos {
                line: l,
                column: text_line[..at].chars().count() as u32 + 1,
                ..Pos::default()
            })
        })
}

/// Where a template (`{{`) starts on `line`, unless it stands inside a quoted string, which is
/// text YAML reads fine (an alerting rule's `summary`).
pub(super) fn template_start(line: &str) -> Option<usize> {
    let at = line.find("{{")?;
    (!line[..at].contains(['"', '\''])).then_some(at)
}

fn looks_like_object(item: &Node) -> bool {
    item.get("kind").is_some() || item.get("apiVersion").is_some()
}

/// The first strategic-merge directive key anywhere in the document.
fn patch_directive(node: &Node) -> Option<&Node> {
    match &node.value {
        Value::Map(entries) => entries.iter().find_map(|(k, v)| {
            let directive = k.as_str().is_some_and(|k| {
                PATCH_DIRECTIVES
                    .iter()
                    .any(|d| k == *d || (d.ends_with('/') && k.starts_with(d)))
            });
            if directive {
                Some(k)
            } else {
                patch_directive(v)
            }
        }),
        Value::Seq(items) => items.iter().find_map(patch_directive),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Node {
        crate::source::yaml::parse_stream(text)
            .expect("yaml")
            .remove(0)
    }

    fn why(text: &str, walked: bool) -> Option<String> {
        skip(&doc(text), walked).map(|s| s.why)
    }

    #[test]
    fn tools_files_are_skipped_and_broken_manifests_are_not() {
        for walked in [false, true] {
            assert!(why("replicaCount: 2\nimage: {tag: v1}\n", walked).is_some());
            assert!(
                why(
                    "- op: replace\n  path: /spec/type\n  value: NodePort\n",
                    walked
                )
                .is_some()
            );
            // Broken manifests stay for the model to report.
            assert_eq!(
                why("apiVersion: v1\nkind: Service\nmetadata: {}\n", walked),
                None
            );
            assert_eq!(why("apiVersion: v1\nmetadata: {name: a}\n", walked), None);
            assert_eq!(why("- apiVersion: v1\n  kind: Service\n", walked), None);
            assert_eq!(why("kind Service\n", walked), None);
            assert_eq!(
                why(
                    "configs:\n- '@type': type.googleapis.com/envoy.admin.v3.ListenersConfigDump\n",
                    walked
                ),
                None
            );
            assert!(why("configs: []\n", walked).is_some());
            assert!(why("- name: a\n  address: {socket_address: {}}\n", walked).is_none());
            assert!(why("- name: install nginx\n  apt: {name: nginx}\n", walked).is_some());
        }
        let values = skip(&doc("replicaCount: 2\n"), true).expect("skipped");
        assert!(values.quiet, "walked trees are full of values files");
        assert!(
            !skip(&doc("replicaCount: 2\n"), false)
                .expect("skipped")
                .quiet
        );
    }

    #[test]
    fn a_parse_error_at_a_template_is_a_template_and_elsewhere_an_error() {
        let helm =
            "kind: Service\nmetadata:\n  labels:\n    {{- include \"x.labels\" . | nindent 4 }}\n";
        let at = template_at_error(helm, 4).expect("a template");
        assert_eq!((at.line, at.column), (4, 5));
        assert!(
            template_note(helm, at.line).contains("(`{{- include \"x.labels\" . | nindent 4 }}`)")
        );
        let broken = "kind: Service\ndata:\n  t: \"{{ .X }}\"\nspec: [1,\n";
        assert_eq!(template_at_error(broken, 5), None);
    }

    #[test]
    fn install_configs_and_patches_are_skipped_with_a_note_even_when_walked() {
        let iop =
            "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  profile: demo\n";
        let s = skip(&doc(iop), true).expect("skipped");
        assert!(!s.quiet && s.why.contains("istioctl install"), "{s:?}");
        let smcp =
            "apiVersion: maistra.io/v2\nkind: ServiceMeshControlPlane\nmetadata: {name: basic}\n";
        assert!(why(smcp, false).expect("skipped").contains("Maistra"));
        let delete = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: loadgenerator\n$patch: delete\n";
        let s = skip(&doc(delete), true).expect("skipped");
        assert_eq!((s.at.line, s.at.column, s.quiet), (5, 1, false));
        let nested = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: sidecar\n        $patch: delete\n";
        assert!(why(nested, false).expect("skipped").contains("`$patch`"));
        let order =
            "kind: Service\nmetadata: {name: a}\nspec:\n  $setElementOrder/ports: [{port: 80}]\n";
        assert!(why(order, false).is_some());
    }
}
