// Placeholder for the Register view.
/** Sign up. */
export default function Register() {
  return (
    <div className="container narrow">
      <h1>Sign up</h1>
    </div>
  );
}
