// A labelled form field with its error (BAD_USER_INPUT's fieldErrors) under it.
import { useId, type InputHTMLAttributes, type TextareaHTMLAttributes } from "react";

interface Common {
  label: string;
  /** The field error to show, if any. */
  error?: string | undefined;
  /** A hint under the field. */
  hint?: string;
}

type InputProps = Common & InputHTMLAttributes<HTMLInputElement> & { multiline?: false };
type AreaProps = Common & TextareaHTMLAttributes<HTMLTextAreaElement> & { multiline: true };

/** An input (or, with `multiline`, a textarea) with its label and error. */
export function Field(props: InputProps | AreaProps) {
  const id = useId();
  const { label, error, hint, multiline, className, ...rest } = props;
  const describedBy = [error ? `${id}-error` : "", hint ? `${id}-hint` : ""].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy,
    className: `input${error ? " input-invalid" : ""}`,
  };
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={id}>{label}</label>
      {multiline ? (
        <textarea {...common} {...(rest as TextareaHTMLAttributes<HTMLTextAreaElement>)} />
      ) : (
        <input {...common} {...(rest as InputHTMLAttributes<HTMLInputElement>)} />
      )}
      {hint && (
        <p id={`${id}-hint`} className="field-hint">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}
