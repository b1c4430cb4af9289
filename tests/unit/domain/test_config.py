import pytest

from pivot.domain import config, errors


@pytest.mark.parametrize(
    ("known", "name", "message"),
    [
        (["origin"], "orgin", "no remote 'orgin' (did you mean 'origin'?)"),
        (["origin"], "nosuch", "no remote 'nosuch'; add it with `pivot remote add nosuch URL`"),
        ([], "nosuch", "no remote 'nosuch'; add it with `pivot remote add nosuch URL`"),
    ],
)
def test_setting_an_option_of_an_unknown_remote_names_the_remote(
    known: list[str], name: str, message: str
) -> None:
    settings = config.Config(remotes={k: config.RemoteConfig(url="s3://b-1/p") for k in known})

    with pytest.raises(errors.ConfigError) as caught:
        config.check_settable(settings, ("remotes", name, "jobs"))

    assert message in str(caught.value)


def test_setting_a_url_or_an_option_of_a_known_remote_is_allowed() -> None:
    settings = config.Config(remotes={"origin": config.RemoteConfig(url="s3://b-1/p")})

    config.check_settable(settings, ("remotes", "origin", "jobs"))
    config.check_settable(settings, ("remotes", "new", "url"))
    config.check_settable(settings, ("cache", "link_modes"))
