//! Multi-cluster runs (`--cluster NAME=PATH`, `clusters:` in the config file). Each cluster is
//! checked on its own, exactly as a run on its paths plus the common ones would check it (its
//! own objects, mesh config and duplicate handling), with the other clusters as its peers for
//! the rules that compare clusters. The findings are then merged: a finding every cluster
//! reading a common file reports alike appears once, naming those clusters.

use std::collections::BTreeSet;

use crate::diagnostic::{Finding, Outcome};
use crate::rules::{Peer, UNUSED_SUPPRESSION};
use crate::source::{self, Sources};

use super::{Cluster, Fetched, Selection, Settings, add_fetched, cluster_resources, finish};

/// A cluster of the run: its name and the paths only it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterPaths {
    pub name: String,
    pub paths: Vec<String>,
}

/// Loads each cluster's paths plus the `common` ones (and the fetched inputs, which every
/// cluster reads) and checks the clusters.
pub fn check_cluster_paths(
    common: &[String],
    clusters: &[ClusterPaths],
    fetched: Fetched,
    settings: &Settings,
) -> Result<Outcome, String> {
    let discovery = super::discovery(settings)?;
    let inputs = clusters
        .iter()
        .map(|c| {
            let paths: Vec<String> = common.iter().chain(&c.paths).cloned().collect();
            let mut sources = source::load(&paths, &discovery);
            add_fetched(&mut sources, fetched.clone());
            (c.name.clone(), sources)
        })
        .collect();
    check_clusters(inputs, settings)
}

/// Checks already-loaded clusters, `(name, sources)`; names are unique.
pub fn check_clusters(
    mut inputs: Vec<(String, Sources)>,
    settings: &Settings,
) -> Result<Outcome, String> {
    let selection = Selection::new(settings)?;
    inputs.sort_by(|a, b| a.0.cmp(&b.0));
    let clusters = inputs
        .into_iter()
        .map(|(name, sources)| Ok((name, Cluster::load(sources, settings)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let mut findings = Vec::new();
    for (i, (name, cluster)) in clusters.iter().enumerate() {
        let peers: Vec<Peer<'_>> = clusters
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, (name, c))| Peer {
                name,
                store: &c.store,
                sources: &c.sources,
            })
            .collect();
        let checked = cluster.check(&peers, Some(name), &selection, settings);
        findings.extend(checked.findings.into_iter().map(|mut f| {
            f.clusters = vec![name.clone()];
            f
        }));
    }
    let names: Vec<&str> = clusters.iter().map(|(n, _)| n.as_str()).collect();
    let read_by: Vec<BTreeSet<&str>> = clusters
        .iter()
        .map(|(_, c)| c.sources.files.iter().map(|f| f.path.as_str()).collect())
        .collect();
    let mut findings = merge(findings, &names, &read_by);
    let read: BTreeSet<&str> = read_by.iter().flatten().copied().collect();
    let baselined = finish(&mut findings, &read, &selection, settings);
    let resources = clusters
        .iter()
        .map(|(_, c)| cluster_resources(&c.store, &c.dumps))
        .sum();
    let (sources, errors) = merge_sources(clusters.into_iter().map(|(_, c)| c.sources));
    Ok(Outcome {
        resources,
        sources,
        findings,
        errors,
        config: settings.config.path.clone(),
        baselined,
        ..Outcome::default()
    })
}

/// One finding for each set of clusters that reported it alike. An unused suppression is kept
/// only when it is unused in every cluster that read its file (every cluster, for an entry of
/// the config file): a suppression in a common file may be needed by one cluster only.
fn merge(mut findings: Vec<Finding>, names: &[&str], read_by: &[BTreeSet<&str>]) -> Vec<Finding> {
    // Stable: within a group, clusters stay in name order.
    findings.sort_by(|a, b| (a.sort_key(), &a.fingerprint).cmp(&(b.sort_key(), &b.fingerprint)));
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut group = 0;
    for f in findings {
        if let Some(first) = out.get(group)
            && (first.sort_key(), &first.fingerprint) != (f.sort_key(), &f.fingerprint)
        {
            group = out.len();
        }
        match out[group..].iter_mut().find(|g| alike(g, &f)) {
            Some(same) => same.clusters.extend(f.clusters),
            None => out.push(f),
        }
    }
    out.retain(|f| {
        if f.code != UNUSED_SUPPRESSION.code {
            return true;
        }
        let readers: Vec<&str> = names
            .iter()
            .zip(read_by)
            .filter(|(_, read)| read.contains(f.location.file.as_str()))
            .map(|(n, _)| *n)
            .collect();
        let required = if readers.is_empty() {
            names
        } else {
            &readers[..]
        };
        required.iter().all(|n| f.clusters.iter().any(|c| c == n))
    });
    out
}

/// Equal apart from the clusters that reported them.
fn alike(a: &Finding, b: &Finding) -> bool {
    let strip = |f: &Finding| Finding {
        clusters: Vec::new(),
        ..f.clone()
    };
    strip(a) == strip(b)
}

/// The files every cluster read, each once (a common file is read by each cluster), their
/// notices once each, and the input errors once per file and position.
fn merge_sources(all: impl Iterator<Item = Sources>) -> (Sources, Vec<crate::source::InputError>) {
    let mut merged = Sources::default();
    let mut seen = BTreeSet::new();
    let mut noted = BTreeSet::new();
    let mut errors = Vec::new();
    for mut s in all {
        errors.append(&mut s.errors);
        for file in s.files {
            if seen.insert(file.path.clone()) {
                merged.files.push(file);
            }
        }
        for notice in s.notices {
            let key = (
                notice.file.clone(),
                notice.line,
                notice.column,
                notice.message.clone(),
            );
            if noted.insert(key) {
                merged.notices.push(notice);
            }
        }
    }
    errors.sort();
    errors.dedup();
    (merged, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(name: &str, files: &[(&str, &str)]) -> (String, Sources) {
        let mut sources = Sources::default();
        for (path, text) in files {
            sources.add_text((*path).into(), (*text).into());
        }
        (name.into(), sources)
    }

    const UNNAMED: &str =
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - port: 8080\n";

    #[test]
    fn a_finding_of_a_common_file_appears_once_naming_every_cluster() {
        let settings = Settings::default();
        let outcome = check_clusters(
            vec![
                cluster("west", &[("common.yaml", UNNAMED)]),
                cluster("east", &[("common.yaml", UNNAMED)]),
            ],
            &settings,
        )
        .expect("valid settings");
        let mesh101: Vec<&Finding> = outcome
            .findings
            .iter()
            .filter(|f| f.code == "MESH101")
            .collect();
        assert_eq!(mesh101.len(), 1, "{:?}", outcome.findings);
        assert_eq!(mesh101[0].clusters, vec!["east", "west"]);
        assert_eq!(outcome.sources.files.len(), 1);
    }

    #[test]
    fn a_finding_of_one_cluster_names_that_cluster_only() {
        let settings = Settings::default();
        let outcome = check_clusters(
            vec![
                cluster("east", &[("east.yaml", UNNAMED)]),
                cluster(
                    "west",
                    &[(
                        "west.yaml",
                        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
                    )],
                ),
            ],
            &settings,
        )
        .expect("valid settings");
        let mesh101: Vec<&Finding> = outcome
            .findings
            .iter()
            .filter(|f| f.code == "MESH101")
            .collect();
        assert_eq!(mesh101.len(), 1);
        assert_eq!(mesh101[0].clusters, vec!["east"]);
        assert_eq!(mesh101[0].location.file, "east.yaml");
    }

    #[test]
    fn a_suppression_in_a_common_file_is_unused_only_when_no_cluster_needs_it() {
        let route = |ignore: &str| {
            format!(
                "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\n  annotations: {{meshlint.io/ignore: {ignore}}}\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {{host: reviews}}\n"
            )
        };
        let service = "apiVersion: v1\nkind: Service\nmetadata: {name: reviews}\nspec:\n  ports:\n  - {name: http, port: 80}\n";
        let run = |ignore: &str| {
            let common = route(ignore);
            check_clusters(
                vec![
                    // Only east has the Service the route names: west needs the suppression.
                    cluster("east", &[("common.yaml", &common), ("east.yaml", service)]),
                    cluster("west", &[("common.yaml", &common)]),
                ],
                &Settings::default(),
            )
            .expect("valid settings")
        };
        let needed = run("MESH503");
        assert!(
            needed
                .findings
                .iter()
                .all(|f| f.code != "MESH001" && f.code != "MESH503"),
            "{:?}",
            needed.findings
        );
        let unused = run("MESH204");
        let mesh001: Vec<&Finding> = unused
            .findings
            .iter()
            .filter(|f| f.code == "MESH001")
            .collect();
        assert_eq!(mesh001.len(), 1, "{:?}", unused.findings);
        assert_eq!(mesh001[0].clusters, vec!["east", "west"]);
    }

    #[test]
    fn input_errors_of_a_common_file_are_reported_once() {
        let settings = Settings::default();
        let outcome = check_clusters(
            vec![
                cluster("east", &[("broken.yaml", "a: [b\n")]),
                cluster("west", &[("broken.yaml", "a: [b\n")]),
            ],
            &settings,
        )
        .expect("valid settings");
        assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    }
}
