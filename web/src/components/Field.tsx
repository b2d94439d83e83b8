import {
  useId,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from "react";

interface FieldFrame {
  label: string;
  hint?: ReactNode;
  issues?: readonly string[];
}

/** A labelled control with its hint and the API's issues about it, announced with the field. */
function Frame({
  label,
  hint,
  issues = [],
  children,
}: FieldFrame & { children: (ids: { id: string; describedBy: string | undefined; invalid: boolean }) => ReactNode }) {
  const id = useId();
  const hintId = `${id}-hint`;
  const issuesId = `${id}-issues`;
  const describedBy = [hint ? hintId : null, issues.length > 0 ? issuesId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={hintId} className="hint">
          {hint}
        </p>
      )}
      {children({ id, describedBy, invalid: issues.length > 0 })}
      {issues.length > 0 && (
        <ul id={issuesId} className="issues">
          {issues.map((issue) => (
            <li key={issue}>{issue}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function TextField({
  label,
  hint,
  issues,
  ...input
}: FieldFrame & Omit<InputHTMLAttributes<HTMLInputElement>, "id">) {
  return (
    <Frame label={label} hint={hint} issues={issues}>
      {({ id, describedBy, invalid }) => (
        <input id={id} aria-describedby={describedBy} aria-invalid={invalid || undefined} {...input} />
      )}
    </Frame>
  );
}

export function TextAreaField({
  label,
  hint,
  issues,
  ...textarea
}: FieldFrame & Omit<TextareaHTMLAttributes<HTMLTextAreaElement>, "id">) {
  return (
    <Frame label={label} hint={hint} issues={issues}>
      {({ id, describedBy, invalid }) => (
        <textarea id={id} aria-describedby={describedBy} aria-invalid={invalid || undefined} {...textarea} />
      )}
    </Frame>
  );
}

export function SelectField({
  label,
  hint,
  issues,
  children,
  ...select
}: FieldFrame & Omit<SelectHTMLAttributes<HTMLSelectElement>, "id">) {
  return (
    <Frame label={label} hint={hint} issues={issues}>
      {({ id, describedBy, invalid }) => (
        <select id={id} aria-describedby={describedBy} aria-invalid={invalid || undefined} {...select}>
          {children}
        </select>
      )}
    </Frame>
  );
}
