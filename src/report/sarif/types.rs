//! The part of SARIF 2.1.0 meshlint writes, as typed structs: field names, nesting and level
//! values follow the OASIS specification's object definitions (section numbers in each doc), so
//! the emitter cannot misspell a property or put one on the wrong object.

use std::collections::BTreeMap;

use serde::Serialize;

/// §3.13 sarifLog.
#[derive(Serialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub version: &'static str,
    pub runs: Vec<Run>,
}

/// §3.14 run.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub tool: Tool,
    /// §3.14.14: the base URIs that `uriBaseId`s name.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub original_uri_base_ids: BTreeMap<&'static str, ArtifactLocation>,
    pub column_kind: &'static str,
    pub invocations: Vec<Invocation>,
    pub results: Vec<SarifResult>,
}

/// §3.18 tool.
#[derive(Serialize)]
pub struct Tool {
    pub driver: ToolComponent,
}

/// §3.19 toolComponent.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolComponent {
    pub name: &'static str,
    pub version: &'static str,
    pub information_uri: &'static str,
    pub rules: Vec<ReportingDescriptor>,
}

/// §3.49 reportingDescriptor: one rule.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportingDescriptor {
    pub id: &'static str,
    pub name: &'static str,
    pub short_description: Message,
    pub full_description: Message,
    pub help: MultiformatMessage,
    pub help_uri: String,
    pub default_configuration: Configuration,
    pub properties: RuleProperties,
}

/// §3.8 propertyBag of a rule: GitHub reads `tags`; the peer codes are meshlint's own.
#[derive(Serialize)]
pub struct RuleProperties {
    pub tags: &'static [&'static str],
    pub istio_codes: &'static [&'static str],
    pub kiali_codes: &'static [&'static str],
}

/// §3.8 propertyBag of a result: which check of the rule fired, and in a multi-cluster run
/// the clusters that reported it.
#[derive(Serialize)]
pub struct ResultProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subkind: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<String>,
}

/// §3.50 reportingConfiguration.
#[derive(Serialize)]
pub struct Configuration {
    pub level: Level,
}

/// §3.27.10 result level (and §3.58.6 notification level).
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Note,
}

/// §3.11 message, plain text.
#[derive(Serialize)]
pub struct Message {
    pub text: String,
}

/// §3.12 multiformatMessageString.
#[derive(Serialize)]
pub struct MultiformatMessage {
    pub text: String,
    pub markdown: String,
}

/// §3.20 invocation.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    pub execution_successful: bool,
    pub tool_execution_notifications: Vec<Notification>,
}

/// §3.58 notification: an input meshlint could not read or parse.
#[derive(Serialize)]
pub struct Notification {
    pub level: Level,
    pub message: Message,
    pub locations: Vec<Location>,
}

/// §3.27 result.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    pub rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_index: Option<usize>,
    pub level: Level,
    pub message: Message,
    pub locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related_locations: Vec<Location>,
    /// §3.27.17: `meshlint/v1` is the finding's fingerprint, stable across line moves.
    pub partial_fingerprints: std::collections::BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<ResultProperties>,
}

/// §3.28 location.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
    pub physical_location: PhysicalLocation,
}

/// §3.29 physicalLocation.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalLocation {
    pub artifact_location: ArtifactLocation,
    pub region: Region,
}

/// §3.4 artifactLocation: `uri` relative to the base `uriBaseId` names, or absolute.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactLocation {
    pub uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_base_id: Option<&'static str>,
}

/// §3.30 region: 1-based lines and columns.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: u32,
    pub start_column: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
}
