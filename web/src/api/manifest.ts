// The persisted-documents manifest (GraphQL Code Generator's), loaded as its own chunk
// the first time a document's listed text is needed.
let manifest: Promise<Record<string, string>> | null = null;

/** The listed text of a document, by its hash. */
export async function listedText(hash: string): Promise<string | undefined> {
  manifest ??= import("../gql/persisted-documents.json").then((module) => module.default as Record<string, string>);
  return (await manifest)[hash];
}
