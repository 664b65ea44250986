// The sidebar's popular tags.
import { Link } from "react-router";
import { useQuery } from "urql";
import { graphql } from "../../gql";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Loading } from "../../ui/Loading";

const PopularTagsQuery = graphql(`
  query PopularTags {
    popularTags(first: 16) {
      name
      articlesCount
    }
  }
`);

/** The most used tags, each linking to its feed. */
export function PopularTags({ active }: { active: string | null }) {
  const [{ data, error }, reexecute] = useQuery({ query: PopularTagsQuery });
  return (
    <div className="card tag-card">
      <h2>Popular tags</h2>
      {!data && !error && <Loading label="Loading tags…" />}
      <ErrorNotice error={error} onRetry={() => reexecute({ requestPolicy: "network-only" })} />
      {data && (
        <ul className="pill-list">
          {data.popularTags.map((tag) => (
            <li key={tag.name}>
              <Link
                to={`/?tag=${encodeURIComponent(tag.name)}`}
                className={tag.name === active ? "pill is-active" : "pill"}
                aria-current={tag.name === active ? "page" : undefined}
                title={`${tag.articlesCount} articles`}
              >
                {tag.name}
              </Link>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
