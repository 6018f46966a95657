//! Secrets the binary handles: the key files' contents (audit signing key, personal-data
//! keys) and the passwords typed for `cityops user add|reset` and `cityops simulate`.
//!
//! Each is held in a [`SecretString`] (the `secrecy` crate) from the moment it is read: its
//! `Debug` prints `[REDACTED]`, it has no `Display`, and its memory is wiped when dropped, so
//! a secret reaches a log line or a printed configuration only where code names it with
//! `expose_secret`. Passwords never come from the command line, which every user of the
//! machine can read (`ps`, `/proc/PID/cmdline`).

use anyhow::{Context, Result};
use secrecy::{ExposeSecret, SecretString};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Reads a key file whole into a secret; `None` when there is no file. A key file that its
/// group or other users may read or write is refused: whoever can read it can unseal every
/// citizen's data or forge audit checkpoints.
pub fn read_key_file(path: &Path) -> Result<Option<SecretString>> {
    match read_owner_only(path, "key file") {
        Ok(text) => Ok(Some(text)),
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
        {
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// Where a command reads a password from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// Asked on the terminal, without echo.
    Prompt,
    /// The first line of standard input.
    Stdin,
    /// The first line of a file that only its owner may read.
    File(PathBuf),
}

/// What the password is for: a new one is asked twice at the prompt, so a typing slip does
/// not lock its user out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordUse {
    /// Set as a user's password.
    New,
    /// Sent to sign in.
    SignIn,
}

/// Reads a password from `source`; refuses an empty one.
pub fn read_password(
    source: &PasswordSource,
    usage: PasswordUse,
    username: &str,
) -> Result<SecretString> {
    match source {
        PasswordSource::Prompt => prompt(usage, username, |question| {
            rpassword::prompt_password(question).map(SecretString::from)
        })
        .map_err(|error| match error.downcast_ref::<std::io::Error>() {
            // rpassword opens /dev/tty; without one (a script, a pipe, CI) say what to use.
            Some(_) => error.context(
                "no terminal to ask for the password on: use --password-stdin or --password-file",
            ),
            None => error,
        }),
        PasswordSource::Stdin => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the password from standard input")?;
            one_line(SecretString::from(text), "standard input")
        }
        PasswordSource::File(path) => {
            let text = read_owner_only(path, "password file").map_err(|error| match error
                .downcast_ref::<std::io::Error>(
            ) {
                Some(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    error.context(format!("no password file at {}", path.display()))
                }
                _ => error,
            })?;
            one_line(text, &path.display().to_string())
        }
    }
}

/// Asks on the terminal through `ask` (once to sign in, twice for a new password).
fn prompt(
    usage: PasswordUse,
    username: &str,
    mut ask: impl FnMut(&str) -> std::io::Result<SecretString>,
) -> Result<SecretString> {
    let first = ask(&format!("Password for {username}: "))?;
    let password = one_line(first, "the prompt")?;
    if usage == PasswordUse::New {
        let again = ask("The same password again: ")?;
        anyhow::ensure!(
            again.expose_secret() == password.expose_secret(),
            "the two passwords differ; nothing was changed"
        );
    }
    Ok(password)
}

/// The password in `text`: its first line, without the line ending; empty is refused, and so
/// is more than one line (a password file holds the password and nothing else).
fn one_line(text: SecretString, from: &str) -> Result<SecretString> {
    let text = text.expose_secret();
    let line = text.strip_suffix('\n').unwrap_or(text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    anyhow::ensure!(
        !line.contains(['\n', '\r']),
        "the password from {from} has more than one line; give the password alone"
    );
    anyhow::ensure!(!line.is_empty(), "the password from {from} is empty");
    Ok(SecretString::from(line))
}

/// Reads a password or key file, refusing one that its group or other users may read or
/// write: such a secret is as exposed as one on the command line (PostgreSQL treats
/// `.pgpass` the same way). A missing file is an `std::io::Error` of kind `NotFound` at the
/// root of the error.
fn read_owner_only(path: &Path, what: &str) -> Result<SecretString> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(e.into()),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot open the {what} {}", path.display()))
        }
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .with_context(|| format!("cannot read the mode of {}", path.display()))?
            .permissions()
            .mode();
        anyhow::ensure!(
            mode & 0o077 == 0,
            "the {what} {0} may be read by other users (mode {1:o}): allow its owner only, e.g. chmod 600 {0}",
            path.display(),
            mode & 0o777
        );
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .with_context(|| format!("cannot read the {what} {}", path.display()))?;
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A prompt that answers from a script and records the questions.
    fn answers<'a>(
        script: &'a [&'a str],
        asked: &'a mut Vec<String>,
    ) -> impl FnMut(&str) -> std::io::Result<SecretString> + 'a {
        let mut next = script.iter();
        move |question| {
            asked.push(question.to_owned());
            Ok(SecretString::from(*next.next().expect("asked too often")))
        }
    }

    #[test]
    fn a_new_password_is_asked_twice_and_must_match() {
        let mut asked = Vec::new();
        let password = prompt(
            PasswordUse::New,
            "chen",
            answers(&["river 2026", "river 2026"], &mut asked),
        )
        .unwrap();
        assert_eq!(password.expose_secret(), "river 2026");
        assert_eq!(asked.len(), 2);
        assert!(asked[0].contains("chen"));

        let mut asked = Vec::new();
        let error = prompt(
            PasswordUse::New,
            "chen",
            answers(&["river 2026", "river 2027"], &mut asked),
        )
        .unwrap_err();
        assert!(error.to_string().contains("differ"), "{error}");
    }

    #[test]
    fn a_sign_in_password_is_asked_once() {
        let mut asked = Vec::new();
        let password = prompt(
            PasswordUse::SignIn,
            "admin",
            answers(&["gateway 7"], &mut asked),
        )
        .unwrap();
        assert_eq!(password.expose_secret(), "gateway 7");
        assert_eq!(asked.len(), 1);
    }

    #[test]
    fn an_empty_password_is_refused_with_a_clear_message() {
        let mut asked = Vec::new();
        let error = prompt(PasswordUse::New, "chen", answers(&[""], &mut asked)).unwrap_err();
        assert_eq!(error.to_string(), "the password from the prompt is empty");
        for empty in ["", "\n", "\r\n"] {
            let error = one_line(SecretString::from(empty), "standard input").unwrap_err();
            assert_eq!(
                error.to_string(),
                "the password from standard input is empty"
            );
        }
    }

    #[test]
    fn only_the_line_ending_is_taken_off_a_password() {
        for (text, password) in [
            ("  spaced out  \n", "  spaced out  "),
            ("windows line\r\n", "windows line"),
            ("no ending", "no ending"),
        ] {
            let read = one_line(SecretString::from(text), "a file").unwrap();
            assert_eq!(read.expose_secret(), password);
        }
        assert!(one_line(SecretString::from("first\nsecond\n"), "a file").is_err());
    }
}
