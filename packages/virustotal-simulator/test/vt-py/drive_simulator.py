"""Drives the simulator with vt-py, VirusTotal's official client, the way the field's
integrations call it; prints one JSON object of what the client saw. Usage:
  python3 drive_simulator.py <host> <api key> <file sha256> <domain> <not-found domain>
Each step runs even when an earlier one failed, so the test names every broken path at once."""
import asyncio
import json
import sys

import vt


async def main(host, key, file_hash, domain, missing_domain):
    out = {}

    async def step(name, run):
        try:
            out[name] = await run()
        except vt.APIError as error:
            out[name] = {"api_error": error.code, "message": error.message}
        except Exception as error:  # noqa: BLE001 - any failure is a finding
            out[name] = {"exception": f"{type(error).__name__}: {error}"}

    async with vt.Client(key, host=host) as client:
        async def file_object():
            f = await client.get_object_async(f"/files/{file_hash}")
            return {"type": f.type, "id": f.id, "stats": dict(f.last_analysis_stats)}

        async def domain_object():
            d = await client.get_object_async(f"/domains/{domain}")
            return {"type": d.type, "id": d.id, "stats": dict(d.last_analysis_stats)}

        async def ip_object():
            ip = await client.get_object_async("/ip_addresses/8.8.8.8")
            return {"type": ip.type, "id": ip.id}

        async def with_relationships():
            f = await client.get_object_async(f"/files/{file_hash}", params={"relationships": "contacted_domains,contacted_ips"})
            return sorted(f.relationships.keys())

        async def iterate(path):
            return [obj.id async for obj in client.iterator(path, batch_size=2, limit=5)]

        async def iterate_with_cursor():
            # An iterator resumed from the cursor another one stopped at must continue, not restart.
            first = client.iterator(f"/files/{file_hash}/contacted_domains", batch_size=2, limit=3)
            head = [obj.id async for obj in first]
            rest = client.iterator(f"/files/{file_hash}/contacted_domains", batch_size=2, limit=3, cursor=first.cursor)
            return {"head": head, "rest": [obj.id async for obj in rest]}

        async def scan_url():
            analysis = await client.scan_url_async("http://vt-py.example/path")
            fetched = await client.get_object_async(f"/analyses/{analysis.id}")
            return {"type": analysis.type, "analysis_type": fetched.type, "status": fetched.status}

        async def analyse_file():
            response = await client.post_async(f"/files/{file_hash}/analyse")
            body = await response.json_async()
            return {"status": response.status, "type": body["data"]["type"]}

        async def yara_ruleset():
            f = await client.get_object_async(f"/files/{file_hash}")
            matches = f.get("crowdsourced_yara_results", [])
            if not matches:
                return {"matches": 0}
            ruleset = await client.get_object_async(f"/yara_rulesets/{matches[0]['ruleset_id']}")
            return {"matches": len(matches), "type": ruleset.type, "name": ruleset.name, "rule_name": matches[0]["rule_name"], "has_text": bool(ruleset.rules)}

        async def not_found():
            await client.get_object_async(f"/domains/{missing_domain}")
            return {"unexpected": "found"}

        async def unsimulated():
            await client.get_object_async("/intelligence/hunting_rulesets")
            return {"unexpected": "found"}

        await step("file", file_object)
        await step("domain", domain_object)
        await step("ip", ip_object)
        await step("relationships", with_relationships)
        await step("related_objects", lambda: iterate(f"/files/{file_hash}/contacted_domains"))
        await step("related_descriptors", lambda: iterate(f"/files/{file_hash}/relationships/contacted_domains"))
        await step("cursor", iterate_with_cursor)
        await step("scan_url", scan_url)
        await step("analyse_file", analyse_file)
        await step("yara_ruleset", yara_ruleset)
        await step("not_found", not_found)
        await step("unsimulated", unsimulated)

    async with vt.Client("not-a-key", host=host) as bad:
        async def wrong_key():
            await bad.get_object_async("/ip_addresses/8.8.8.8")
            return {"unexpected": "found"}
        await step("wrong_key", wrong_key)

    print(json.dumps(out))


asyncio.run(main(*sys.argv[1:]))
