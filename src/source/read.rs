//! Reading one input: a bounded number of bytes, and only from what can be read to its end.

use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

/// A byte count, given as a number of bytes or with a K, M or G suffix (powers of 1024,
/// optionally spelt `KiB` or `KB`): `256MiB`, `10M`, `1048576`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileSize(pub u64);

impl Default for FileSize {
    fn default() -> Self {
        Self(256 << 20)
    }
}

impl FromStr for FileSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (number, unit) = t.split_at(digits);
        let shift = match unit.trim_start().to_ascii_lowercase().as_str() {
            "" | "b" => 0,
            "k" | "kb" | "kib" => 10,
            "m" | "mb" | "mib" => 20,
            "g" | "gb" | "gib" => 30,
            _ => {
                return Err(format!(
                    "`{s}` is not a size (expected e.g. 256MiB, 10M or 1048576)"
                ));
            }
        };
        number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(1 << shift))
            .filter(|&n| n > 0)
            .map(Self)
            .ok_or_else(|| {
                format!("`{s}` is not a positive size (expected e.g. 256MiB, 10M or 1048576)")
            })
    }
}

impl fmt::Display for FileSize {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let n = self.0;
        match [(30, "GiB"), (20, "MiB"), (10, "KiB")]
            .into_iter()
            .find(|(shift, _)| n >> shift > 0 && n.is_multiple_of(1 << shift))
        {
            Some((shift, unit)) => write!(f, "{} {unit}", n >> shift),
            None => write!(f, "{n} bytes"),
        }
    }
}

/// Why an input could not be read: what it is and what was expected, without the file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// 1-based position of an invalid UTF-8 byte; 0 when the whole input is at fault.
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl Unreadable {
    fn whole(message: String) -> Self {
        Self {
            line: 0,
            column: 0,
            message,
        }
    }
}

/// Reads `path` (`-` is stdin) as UTF-8, refusing more than `limit` bytes and anything that is
/// not a regular file: a named pipe or a device named as a file would block or never end.
/// Descriptors (`/dev/fd/N`, from a shell's `<(…)`) are read as they come, like stdin. `what`
/// names the input in messages (`file`, `config`).
pub fn read_text(path: &Path, limit: FileSize, what: &str) -> Result<String, Unreadable> {
    let bytes = if path == Path::new("-") {
        bounded(std::io::stdin().lock(), limit, None)
            .map_err(|e| Unreadable::whole(e.message("stdin", limit)))?
    } else {
        read_file(path, limit).map_err(|e| Unreadable::whole(e.message(what, limit)))?
    };
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&e.as_bytes()[..at]);
        Unreadable {
            line: valid.matches('\n').count() as u32 + 1,
            column: valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1,
            message: format!("{what} is not valid UTF-8 (invalid byte at offset {at})"),
        }
    })
}

enum Failure {
    TooLarge,
    NotRegular(&'static str),
    Io(std::io::Error),
}

impl Failure {
    fn message(&self, what: &str, limit: FileSize) -> String {
        match self {
            Self::TooLarge => format!(
                "{what} is larger than --max-file-size ({limit}); raise the limit to read it"
            ),
            // Only manifests can come from stdin.
            Self::NotRegular(kind) if what == "file" => {
                format!("{what} is {kind}, not a regular file; pass what it holds on stdin as `-`")
            }
            Self::NotRegular(kind) => format!("{what} is {kind}, not a regular file"),
            Self::Io(e) => format!("cannot read {what}: {e}"),
        }
    }
}

fn read_file(path: &Path, limit: FileSize) -> Result<Vec<u8>, Failure> {
    let descriptor = is_descriptor(path);
    // Refused before opening: opening a FIFO blocks until a writer comes.
    if !descriptor {
        regular(&std::fs::metadata(path).map_err(Failure::Io)?)?;
    }
    let file = open(path, descriptor).map_err(Failure::Io)?;
    // The path may have been replaced between the two looks; the open file is what counts.
    let meta = file.metadata().map_err(Failure::Io)?;
    if !descriptor {
        regular(&meta)?;
    }
    let size = meta.is_file().then_some(meta.len());
    if size.is_some_and(|n| n > limit.0) {
        return Err(Failure::TooLarge);
    }
    bounded(file, limit, size)
}

/// At most `limit` bytes of `r`; more is an error, not a truncation.
fn bounded(r: impl Read, limit: FileSize, size: Option<u64>) -> Result<Vec<u8>, Failure> {
    let mut buf = Vec::with_capacity(size.map_or(0, |n| n as usize + 1));
    r.take(limit.0.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(Failure::Io)?;
    if buf.len() as u64 > limit.0 {
        return Err(Failure::TooLarge);
    }
    Ok(buf)
}

/// A path to an open descriptor of this process: a pipe there is the shell's process
/// substitution, already connected, so reading it ends.
fn is_descriptor(path: &Path) -> bool {
    // Exactly `/dev/fd/N` or `/proc/self/fd/N`: `/dev/fd/../tmp/fifo` is not a descriptor.
    let Some(s) = path.to_str() else {
        return false;
    };
    let number = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    s == "/dev/stdin"
        || s.strip_prefix("/dev/fd/").is_some_and(number)
        || s.strip_prefix("/proc/self/fd/").is_some_and(number)
}

fn regular(meta: &std::fs::Metadata) -> Result<(), Failure> {
    if meta.is_file() {
        Ok(())
    } else {
        Err(Failure::NotRegular(kind(&meta.file_type())))
    }
}

#[cfg(unix)]
fn kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn kind(t: &std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Opens for reading. Anything but a descriptor is opened without blocking, so a FIFO put in
/// place after the first look cannot hang the run; reads of a regular file never block anyway.
fn open(path: &Path, descriptor: bool) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    if !descriptor {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    #[cfg(not(unix))]
    let _ = descriptor;
    opts.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes_and_print_in_the_largest_whole_unit() {
        for (text, bytes) in [
            ("256MiB", 256 << 20),
            ("10M", 10 << 20),
            ("10 mb", 10 << 20),
            ("1048576", 1 << 20),
            ("2g", 2 << 30),
            ("512K", 512 << 10),
            ("7b", 7),
        ] {
            assert_eq!(text.parse::<FileSize>(), Ok(FileSize(bytes)), "{text}");
        }
        for bad in ["", "0", "M", "1.5M", "10T", "-1", "99999999999999999999G"] {
            assert!(bad.parse::<FileSize>().is_err(), "{bad}");
        }
        assert_eq!(FileSize::default().to_string(), "256 MiB");
        assert_eq!(FileSize(1 << 30).to_string(), "1 GiB");
        assert_eq!(FileSize(1000).to_string(), "1000 bytes");
    }

    #[test]
    fn inputs_over_the_limit_are_refused_and_at_the_limit_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("a.yaml");
        std::fs::write(&f, "a: 1\n").expect("write");
        assert_eq!(read_text(&f, FileSize(5), "file").as_deref(), Ok("a: 1\n"));
        let err = read_text(&f, FileSize(4), "file").expect_err("too large");
        assert!(err.message.contains("--max-file-size (4 bytes)"), "{err:?}");
        assert!(bounded(std::io::repeat(b'a'), FileSize(1 << 10), None).is_err());
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_directories_are_refused_without_reading() {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("z.yaml");
        std::os::unix::fs::symlink("/dev/zero", &link).expect("symlink");
        for (path, kind) in [(&*link, "a character device"), (dir.path(), "a directory")] {
            let err = read_text(path, FileSize::default(), "file").expect_err("refused");
            assert!(err.message.contains(kind), "{err:?}");
        }
    }
}
