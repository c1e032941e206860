import aiohttp

from tests.harness import RunningBot


async def test_health_readiness_and_metrics_answer(bot: RunningBot) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{bot.url}/healthz") as health:
            assert (health.status, await health.json()) == (200, {"status": "ok"})
        async with http.get(f"{bot.url}/readyz") as ready:
            assert (ready.status, await ready.json()) == (200, {"status": "ready"})
        async with http.get(f"{bot.url}/metrics") as metrics:
            assert metrics.status == 200
            assert "python_info" in await metrics.text()
