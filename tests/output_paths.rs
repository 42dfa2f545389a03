//! One path rule for every format: a file is named by the path given on the command line (or
//! found under a directory given there), relative to the working directory. SARIF writes it as
//! a URI relative to `%SRCROOT%`, which the run declares as the working directory, so resolving
//! the URI gives the same file.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use url::Url;

const BIN: &str = env!("CARGO_BIN_EXE_meshlint");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .canonicalize()
        .expect("crate root")
}

fn run(cwd: &Path, args: &[&str], format: &str) -> String {
    let out = Command::new(BIN)
        .arg("check")
        .args(args)
        .args(["--format", format, "--color", "never"])
        .current_dir(cwd)
        .output()
        .expect("meshlint runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Each format's file names for the same run, checked against the JSON's.
fn assert_one_base(cwd: &Path, args: &[&str]) {
    let json: Value = serde_json::from_str(&run(cwd, args, "json")).expect("JSON");
    let findings = json["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    let files: Vec<String> = findings
        .iter()
        .map(|f| f["location"]["file"].as_str().expect("file").to_string())
        .collect();
    for file in &files {
        assert!(
            args.iter()
                .any(|a| file.starts_with(a.trim_end_matches('/'))),
            "{file} is not under a path given: {args:?}"
        );
    }

    let sarif: Value = serde_json::from_str(&run(cwd, args, "sarif")).expect("SARIF");
    let run0 = &sarif["runs"][0];
    let bases = &run0["originalUriBaseIds"];
    for (result, file) in run0["results"]
        .as_array()
        .expect("results")
        .iter()
        .zip(&files)
    {
        let artifact = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        let uri = artifact["uri"].as_str().expect("uri");
        let url = match artifact["uriBaseId"].as_str() {
            Some(base) => {
                let base = Url::parse(bases[base]["uri"].as_str().expect("base declared"))
                    .expect("base URI");
                base.join(uri).expect("relative reference")
            }
            None => Url::parse(uri).expect("absolute URI"),
        };
        let resolved = url.to_file_path().expect("file URI");
        assert_eq!(
            resolved.canonicalize().expect("resolves to a file"),
            cwd.join(file)
                .canonicalize()
                .expect("the JSON's file exists"),
            "SARIF {uri} and JSON {file} name different files"
        );
    }

    let github = run(cwd, args, "github");
    let concise = run(cwd, args, "concise");
    let human = run(cwd, args, "human");
    for (f, file) in findings.iter().zip(&files) {
        let at = format!(
            "{file}:{}:{}",
            f["location"]["line"], f["location"]["column"]
        );
        assert!(
            github.contains(&format!("file={file},line={},", f["location"]["line"])),
            "github lacks {file}"
        );
        assert!(concise.contains(&format!("{at}: ")), "concise lacks {at}");
        assert!(human.contains(&format!("[{at}]")), "human lacks {at}");
    }
}

#[test]
fn paths_from_the_repository_root() {
    assert_one_base(
        &root(),
        &["testdata/demo/shop.yaml", "testdata/demo/app.yaml"],
    );
}

#[test]
fn paths_from_a_subdirectory_stay_as_given() {
    let cwd = root().join("testdata");
    assert_one_base(&cwd, &["demo/shop.yaml", "./demo/app.yaml"]);
    let sarif: Value =
        serde_json::from_str(&run(&cwd, &["demo/shop.yaml"], "sarif")).expect("SARIF");
    let base = sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("%SRCROOT% declared");
    assert_eq!(
        Url::parse(base).expect("URI").to_file_path().expect("file"),
        cwd
    );
}

#[test]
fn absolute_and_climbing_paths() {
    let demo = root().join("testdata/demo");
    let shop = demo.join("shop.yaml");
    assert_one_base(&root(), &[&shop.to_string_lossy()]);
    assert_one_base(&demo, &["../demo/shop.yaml"]);
}
