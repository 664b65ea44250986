// Favorite/unfavorite an article (optimistic; signed-out users are sent to sign in).
import { useNavigate } from "react-router";
import { useMutation } from "urql";
import { graphql } from "../../gql";
import { useSession } from "../../session/store";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";

const FavoriteMutation = graphql(`
  mutation FavoriteArticle($slug: String!) {
    favoriteArticle(slug: $slug) {
      id
      favoritesCount
      viewerHasFavorited
    }
  }
`);

const UnfavoriteMutation = graphql(`
  mutation UnfavoriteArticle($slug: String!) {
    unfavoriteArticle(slug: $slug) {
      id
      favoritesCount
      viewerHasFavorited
    }
  }
`);

interface Props {
  slug: string;
  title: string;
  count: number;
  favorited: boolean;
  /** "compact" in cards (just the count), "full" on the article page. */
  look?: "compact" | "full";
}

/** The heart button with the favorites count. */
export function FavoriteButton({ slug, title, count, favorited, look = "compact" }: Props) {
  const { user } = useSession();
  const navigate = useNavigate();
  const [favoriteState, favorite] = useMutation(FavoriteMutation);
  const [unfavoriteState, unfavorite] = useMutation(UnfavoriteMutation);
  const error = favoriteState.error ?? unfavoriteState.error;
  const toggle = () => {
    if (!user) {
      navigate(`/login?next=${encodeURIComponent(`/article/${slug}`)}`);
      return;
    }
    void (favorited ? unfavorite({ slug }) : favorite({ slug }));
  };
  return (
    <span className="favorite">
      <Button variant="outline" size="small" active={favorited} aria-pressed={favorited} onClick={toggle}>
        <span aria-hidden="true">♥</span>
        {look === "full" ? (
          <>
            {favorited ? " Unfavorite article" : " Favorite article"}
            <span className="favorite-count"> ({count})</span>
          </>
        ) : (
          <>
            <span className="visually-hidden">{favorited ? "Unfavorite" : "Favorite"} “{title}”, favorites: </span>
            <span className="favorite-count">{count}</span>
          </>
        )}
      </Button>
      <ErrorNotice error={error} />
    </span>
  );
}
