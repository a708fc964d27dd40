/**
 * The refusals of the start-up database checks (storage/preflight.ts): each a StartupError of
 * one line naming KMS_DB_URL (or the key file), what is wrong and how to fix it; SQLite's
 * failures translated into such a line.
 *
 * @module
 */
import { StartupError } from "../core/config.ts";

/** The refusal of a database that holds data when no keyring exists to open it. */
export function keyFileMissing(path: string, keyFile = "(unset)"): StartupError {
  return new StartupError(
    `KMS_ROOT_KEY_FILE ${keyFile} does not exist, but the database ${path} holds data wrapped ` +
      "under a root key: restore the keyring file from its backup or set KMS_ROOT_KEY (a new " +
      "key would open nothing stored, so none is made)",
  );
}

/** The refusal of a damaged database file. */
export function corrupt(path: string, detail: string): StartupError {
  return new StartupError(
    `KMS_DB_URL: database ${path} is corrupt (${oneLine(detail, 160)}): restore it from a ` +
      'backup (README "Backup and restore"); the KMS does not start on a damaged file',
  );
}

/** A SQLite failure of the checks as the operator's one line. */
export function sqliteStartupError(path: string, error: unknown, lockWaitMs: number): StartupError {
  const text = errorText(error);
  if (isBusy(error)) {
    return new StartupError(
      `KMS_DB_URL: database ${path} is locked by another process (still locked after ` +
        `${lockWaitMs / 1000} s): stop the program holding it (\`fuser ${path}\` names it) and ` +
        "start again",
    );
  }
  if (/SQLITE_NOTADB|file is not a database/i.test(text)) {
    return new StartupError(
      `KMS_DB_URL: ${path} is not a SQLite database (SQLite cannot read it): point KMS_DB_URL ` +
        "at this KMS's database, or restore it from a backup",
    );
  }
  if (/SQLITE_CORRUPT|malformed/i.test(text)) return corrupt(path, reason(error));
  if (/SQLITE_READONLY|SQLITE_CANTOPEN|SQLITE_PERM|SQLITE_AUTH/i.test(text)) {
    return new StartupError(
      `KMS_DB_URL: database ${path} cannot be opened for writing (${
        oneLine(reason(error), 120)
      }): ` +
        "check the permissions of the file, its -wal and -shm files and its directory",
    );
  }
  return new StartupError(
    `KMS_DB_URL: database ${path} cannot be checked (${oneLine(reason(error), 160)}): fix the ` +
      "file or restore it from a backup",
  );
}

function errorText(error: unknown): string {
  return `${(error as { code?: unknown })?.code ?? ""} ${reason(error)}`;
}

/** Whether a SQLite failure is another process's lock. */
export function isBusy(error: unknown): boolean {
  const text = errorText(error);
  return /SQLITE_BUSY|SQLITE_LOCKED|database is locked/i.test(text);
}

/** The message of an error, or the thing thrown as text. */
export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `text` on one line, cut to `max` characters. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}
