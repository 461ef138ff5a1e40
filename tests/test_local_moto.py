"""The local stack's moto (onecloud/local_moto.py) answers every query as moto does, however the table
was written: puts, updates that add, change or remove an index key, deletes, batches, transactions
that commit or are cancelled (and put the table back)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.localstack import ROOT

WORKLOAD = textwrap.dedent(
    """
    import json
    import random
    import sys

    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    if sys.argv[1] == "patched":
        from onecloud import local_moto, moto_transactions

        moto_transactions.apply()
        local_moto.apply()
    rng = random.Random(1)
    answers = []


    def s(value):
        return {"S": value}


    def record():
        item = {"id": s(str(rng.randrange(60)))}
        if rng.random() < 0.8:
            item["g"] = s(f"g{rng.randrange(5)}")
        if rng.random() < 0.8:
            item["r"] = s(f"r{rng.randrange(7)}")
        return item


    def entry():
        item = {"k": s(f"k{rng.randrange(6)}"), "n": s(str(rng.randrange(20)))}
        if rng.random() < 0.7:
            item["g"] = s(f"g{rng.randrange(4)}")
        return item


    def index(name, *keys):
        schema = [{"AttributeName": a, "KeyType": t} for a, t in keys]
        return {"IndexName": name, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}


    with mock_aws():
        db = boto3.client("dynamodb", region_name="us-east-1")
        db.create_table(
            TableName="records",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("id", "g", "r")],
            GlobalSecondaryIndexes=[
                index("g-index", ("g", "HASH"), ("r", "RANGE")),
                index("r-index", ("r", "HASH")),
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        db.create_table(
            TableName="history",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("k", "n", "g")],
            GlobalSecondaryIndexes=[index("g-index", ("g", "HASH"))],
            BillingMode="PAY_PER_REQUEST",
        )
        some_id = lambda: {"id": s(str(rng.randrange(60)))}  # noqa: E731
        for step in range(1500):
            roll = rng.random()
            try:
                if roll < 0.3:
                    db.put_item(TableName="records", Item=record())
                elif roll < 0.4:
                    db.put_item(TableName="history", Item=entry())
                elif roll < 0.5:
                    db.delete_item(TableName="records", Key=some_id())
                elif roll < 0.6:
                    db.update_item(
                        TableName="records", Key=some_id(), UpdateExpression="SET g = :g",
                        ExpressionAttributeValues={":g": s(f"g{rng.randrange(5)}")},
                    )
                elif roll < 0.65:
                    db.update_item(TableName="records", Key=some_id(), UpdateExpression="REMOVE g")
                elif roll < 0.75:
                    guarded = {"ConditionExpression": "attribute_not_exists(k)"} if rng.random() < 0.5 else {}
                    db.transact_write_items(TransactItems=[
                        {"Put": {"TableName": "records", "Item": record()}},
                        {"Update": {
                            "TableName": "records", "Key": some_id(), "UpdateExpression": "SET r = :r",
                            "ExpressionAttributeValues": {":r": s(f"r{rng.randrange(7)}")},
                        }},
                        {"Put": {"TableName": "history", "Item": entry(), **guarded}},
                    ])
                elif roll < 0.8:
                    key = {"k": s(f"k{rng.randrange(6)}"), "n": s(str(rng.randrange(20)))}
                    db.batch_write_item(RequestItems={
                        "records": [{"PutRequest": {"Item": record()}}],
                        "history": [{"DeleteRequest": {"Key": key}}],
                    })
                else:
                    which = rng.random()
                    if which < 0.4:
                        found = db.query(
                            TableName="records", IndexName="g-index", KeyConditionExpression="g = :g",
                            ExpressionAttributeValues={":g": s(f"g{rng.randrange(5)}")},
                        )
                    elif which < 0.55:
                        found = db.query(
                            TableName="records", IndexName="g-index",
                            KeyConditionExpression="g = :g AND r > :r", ScanIndexForward=False, Limit=3,
                            ExpressionAttributeValues={":g": s(f"g{rng.randrange(5)}"), ":r": s("r3")},
                        )
                    elif which < 0.7:
                        found = db.query(
                            TableName="records", IndexName="r-index", KeyConditionExpression="r = :r",
                            ExpressionAttributeValues={":r": s(f"r{rng.randrange(7)}")},
                        )
                    elif which < 0.85:
                        found = db.query(
                            TableName="history", KeyConditionExpression="k = :k",
                            ExpressionAttributeValues={":k": s(f"k{rng.randrange(6)}")},
                        )
                    else:
                        found = db.query(
                            TableName="history", IndexName="g-index", KeyConditionExpression="g = :g",
                            ExpressionAttributeValues={":g": s(f"g{rng.randrange(4)}")},
                        )
                    answers.append([step, found["Items"], found.get("LastEvaluatedKey"), found["Count"]])
            except ClientError as error:
                answers.append([step, error.response["Error"]["Code"]])
    print(json.dumps(answers))
    """
)


def answers(mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", WORKLOAD, mode], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_query_finds_what_moto_finds_whatever_wrote_the_table():
    # each in its own process: the patch is process-wide
    plain, patched = answers("plain"), answers("patched")
    assert plain.count("[") > 300  # there are answers to compare
    assert patched == plain


def test_the_moto_server_keeps_a_clients_connection_for_its_next_calls():
    """Werkzeug's server closes every connection; onecloud's moto process keeps them (a body is read
    whole before the answer, so the next request on the connection is read intact)."""
    import http.client
    import json
    import time

    from tests.localstack import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "onecloud.moto_server", "--port", str(port)], cwd=ROOT)
    try:
        for _ in range(100):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                connection.request("GET", "/moto-api/")
                break
            except ConnectionRefusedError:
                time.sleep(0.1)
        first = connection.getresponse()
        first.read()
        socket = connection.sock
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Authorization": "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/dynamodb/aws4_request, "
            "SignedHeaders=host, Signature=s",
        }
        answers = []
        for _ in range(3):  # a body each time: what the server reads must not eat the next request
            connection.request("POST", "/", body=json.dumps({"Limit": 10}), headers=headers)
            reply = connection.getresponse()
            answers.append((reply.status, json.loads(reply.read()), reply.will_close))
        assert answers == [(200, {"TableNames": []}, False)] * 3
        assert connection.sock is socket  # the same connection throughout
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_queue_delivers_every_message_once_while_messages_are_sent_and_deleted_side_by_side(cloud):
    """A receive reads only as far as its batch, a delete finds its message from the oldest, under the
    queue's lock: 600 messages sent from three threads while a reader receives and deletes batches."""
    import threading
    import time
    import uuid

    from chalicelib import aws

    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=f"side-by-side-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    expected = {f"{k}-{i}" for k in range(3) for i in range(200)}

    def send(k: int) -> None:
        for i in range(200):
            sqs.send_message(QueueUrl=url, MessageBody=f"{k}-{i}")

    senders = [threading.Thread(target=send, args=(k,)) for k in range(3)]
    for sender in senders:
        sender.start()
    seen: list[str] = []
    deadline = time.monotonic() + 120
    while len(seen) < len(expected) and time.monotonic() < deadline:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60)
        messages = batch.get("Messages", [])
        seen += [m["Body"] for m in messages]
        if messages:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
            assert not sqs.delete_message_batch(QueueUrl=url, Entries=entries).get("Failed")
    for sender in senders:
        sender.join()
    assert sorted(seen) == sorted(expected)  # each once
    assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    assert attributes == dict.fromkeys(names, "0")  # none left, none in flight
