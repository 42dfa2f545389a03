//! What a file is, told from its first bytes: a JSON config dump is decoded by `envoy::load`,
//! everything else is parsed as YAML.

/// The first byte that is not whitespace (or a BOM).
pub fn first_significant(text: &str) -> Option<(usize, u8)> {
    let t = text.strip_prefix('\u{feff}').unwrap_or(text);
    let skip = text.len() - t.len();
    t.bytes()
        .enumerate()
        .find(|(_, b)| !b.is_ascii_whitespace())
        .map(|(i, b)| (i + skip, b))
}

/// The first key of the top-level object, if the text starts with `{"key"`.
fn first_key(text: &str, open: usize) -> Option<&str> {
    let rest = &text[open + 1..];
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(&rest[..end])
}

/// Whether a JSON text is a config dump: an object whose first key is `configs`, or an array
/// whose first element is an Envoy resource (not a Kubernetes object, nor a JSON patch
/// operation for `kubectl patch --type=json`).
pub fn json_is_dump(text: &str) -> bool {
    match first_significant(text) {
        Some((i, b'{')) => first_key(text, i) == Some("configs"),
        Some((i, b'[')) => {
            let rest = text[i + 1..].trim_start();
            rest.starts_with('{') && {
                // Look at the first element's keys only.
                match first_key(rest, 0) {
                    Some(k) => !matches!(
                        k,
                        "apiVersion" | "kind" | "metadata" | "op" | "path" | "from" | "value"
                    ),
                    None => false,
                }
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_dumps_by_content() {
        assert!(json_is_dump("  {\n  \"configs\": []}"));
        assert!(json_is_dump(
            "[{\"name\": \"0.0.0.0_80\", \"address\": {}}]"
        ));
        assert!(!json_is_dump(
            "{\"apiVersion\": \"v1\", \"kind\": \"Service\"}"
        ));
        assert!(!json_is_dump("[{\"kind\": \"Service\"}]"));
        assert!(!json_is_dump(
            "[\n  {\"op\": \"replace\", \"path\": \"/spec/type\", \"value\": \"NodePort\"}]"
        ));
        assert!(!json_is_dump("kind: Service\n"));
    }
}
