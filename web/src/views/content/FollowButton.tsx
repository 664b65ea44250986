// Follow/unfollow a user (optimistic; signed-out users are sent to sign in).
import { useLocation, useNavigate } from "react-router";
import { useMutation } from "urql";
import { graphql } from "../../gql";
import { useSession } from "../../session/store";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";

const FollowMutation = graphql(`
  mutation FollowUser($username: String!) {
    followUser(username: $username) {
      id
      viewerIsFollowing
      followersCount
    }
  }
`);

const UnfollowMutation = graphql(`
  mutation UnfollowUser($username: String!) {
    unfollowUser(username: $username) {
      id
      viewerIsFollowing
      followersCount
    }
  }
`);

interface Props {
  username: string;
  following: boolean;
}

/** "Follow jane" / "Unfollow jane". */
export function FollowButton({ username, following }: Props) {
  const { user } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [followState, follow] = useMutation(FollowMutation);
  const [unfollowState, unfollow] = useMutation(UnfollowMutation);
  const toggle = () => {
    if (!user) {
      navigate(`/login?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    void (following ? unfollow({ username }) : follow({ username }));
  };
  return (
    <span className="follow">
      <Button variant={following ? "outline" : "primary"} size="small" active={following} aria-pressed={following} onClick={toggle}>
        {following ? `Unfollow ${username}` : `Follow ${username}`}
      </Button>
      <ErrorNotice error={followState.error ?? unfollowState.error} />
    </span>
  );
}
