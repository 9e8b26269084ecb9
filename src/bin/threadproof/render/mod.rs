//! Rendering explorations for people: the text on stdout ([`text`]) and the HTML report
//! ([`html`]), and the report's file.
//!
//! Invariant: a report file is either absent or complete: it is written to a temporary file
//! beside it and renamed into place, so an interrupted `check` leaves nothing half-written.

mod html;
mod text;

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

pub use self::html::html;
pub use self::text::{details, verdict_table};

/// Where `check --report` writes, proved writable before the exploration starts.
pub struct ReportFile {
    path: PathBuf,
    temporary: PathBuf,
}

impl ReportFile {
    /// Checks that a report can be written to `path` (a regular file or none yet, in a
    /// directory where a file can be created), without leaving anything there.
    pub fn create(path: &Path) -> io::Result<ReportFile> {
        if let Ok(meta) = fs::metadata(path) {
            if !meta.is_file() {
                return Err(io::Error::other(
                    "it exists and is not a regular file (a report is renamed into place)",
                ));
            }
            if meta.permissions().readonly() {
                return Err(io::Error::from(io::ErrorKind::PermissionDenied));
            }
        }
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::other("it names no file"))?;
        let mut hidden = std::ffi::OsString::from(".");
        hidden.push(name);
        hidden.push(format!(".{}.tmp", std::process::id()));
        let temporary = path.with_file_name(hidden);
        // Creating the temporary file proves the directory writable; it is made again at the end.
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)?;
        fs::remove_file(&temporary)?;
        Ok(ReportFile {
            path: path.to_path_buf(),
            temporary,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `contents` to the temporary file and renames it over the report's path.
    pub fn write(self, contents: &str) -> io::Result<()> {
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.temporary)
            .and_then(|mut file| {
                file.write_all(contents.as_bytes())?;
                file.sync_all()
            })
            .and_then(|()| fs::rename(&self.temporary, &self.path));
        if written.is_err() {
            let _ = fs::remove_file(&self.temporary);
        }
        written
    }
}
