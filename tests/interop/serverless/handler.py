"""The original backend's connection_handler Lambda, written from its design
for an offline test: route handling in lambda_handler(), $connect storing the
connection's role, and handle_audio_chunk() as designed (validate, speaker
role only, forward to the stream-writer function, always answer 200).

Offline replacements, nothing else changed:
- DynamoDB's connections table: one JSON file per connection under
  $WSSAC_BACKEND_DIR/connections/.
- lambda_client.invoke(FunctionName=kvs_stream_writer, InvocationType='Event',
  Payload=...): the payload appended as one JSON line to
  $WSSAC_BACKEND_DIR/forwarded.jsonl.
- CloudWatch logs: every invocation appended to
  $WSSAC_BACKEND_DIR/invocations.jsonl (route, action, time; for audio the
  chunk itself), so a test can see what reached the handler, in arrival
  order, whether or not the handler forwarded it.
Appends are single O_APPEND writes: the emulator runs invocations
concurrently in several processes, as API Gateway does.
"""

import json
import os
import re
import time

STATE = os.environ.get("WSSAC_BACKEND_DIR", "/tmp/wssac-backend")


def _append(name, record):
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    fd = os.open(os.path.join(STATE, name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class ConnectionsRepository:
    """The connections table: connectionId -> {role, sessionId, ...}."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)

    def _path(self, connection_id):
        return os.path.join(self.dir, re.sub(r"[^A-Za-z0-9_-]", "_", connection_id) + ".json")

    def put_connection(self, item):
        tmp = self._path(item["connectionId"]) + ".tmp"
        with open(tmp, "w") as f:
            json.dump(item, f)
        os.replace(tmp, self._path(item["connectionId"]))

    def get_connection(self, connection_id):
        try:
            with open(self._path(connection_id)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def delete_connection(self, connection_id):
        try:
            os.unlink(self._path(connection_id))
        except OSError:
            pass


connections_repo = ConnectionsRepository(os.path.join(STATE, "connections"))


class _Logger:
    def _log(self, level, message, **fields):
        _append("log.jsonl", dict(level=level, message=message, **{k: str(v) for k, v in fields.items()}))

    def info(self, message, **fields):
        self._log("info", message, **fields)

    def warning(self, message, **fields):
        self._log("warning", message, **fields)

    def error(self, message, exc_info=False, **fields):
        self._log("error", message, **fields)


logger = _Logger()


def success_response(status_code=200, body=None):
    return {"statusCode": status_code, "body": json.dumps(body if body is not None else {})}


def lambda_handler(event, context):
    request = event.get("requestContext", {})
    route = request.get("routeKey")
    connection_id = request.get("connectionId")
    ip_address = request.get("identity", {}).get("sourceIp", "")
    if route == "$connect":
        return handle_connect(event, connection_id, ip_address)
    if route == "$disconnect":
        connections_repo.delete_connection(connection_id)
        _append("invocations.jsonl", {"t": time.time(), "route": route, "connectionId": connection_id})
        return success_response(status_code=200, body={})
    try:
        body = json.loads(event.get("body") or "{}")
    except ValueError:
        body = {}
    action = body.get("action") if isinstance(body, dict) else None
    record = {"t": time.time(), "route": route, "action": action, "connectionId": connection_id}
    if action == "audioChunk":
        record.update(chunkIndex=body.get("chunkIndex"), sessionId=body.get("sessionId"),
                      audioData=body.get("audioData"))
    _append("invocations.jsonl", record)
    if action == "audioChunk":
        return handle_audio_chunk(event, connection_id, body, ip_address)
    if action in ("pauseBroadcast", "resumeBroadcast", "muteBroadcast", "unmuteBroadcast", "endSession"):
        return handle_control(connection_id, body, action)
    return success_response(status_code=200, body={})


def handle_connect(event, connection_id, ip_address):
    """Stores the connection with the role and session its query string
    names (the original app's speaker connects with role=speaker)."""
    params = event.get("queryStringParameters") or {}
    connections_repo.put_connection({
        "connectionId": connection_id,
        "role": params.get("role", "listener"),
        "sessionId": params.get("sessionId", ""),
        "ipAddress": ip_address,
        "connectedAt": int(time.time() * 1000),
    })
    _append("invocations.jsonl", {"t": time.time(), "route": "$connect", "connectionId": connection_id,
                                  "role": params.get("role", "listener")})
    return success_response(status_code=200, body={})


def handle_control(connection_id, body, action):
    connection = connections_repo.get_connection(connection_id)
    if not connection or connection.get("role") != "speaker":
        return success_response(status_code=200, body={})
    _append("controls.jsonl", {"t": time.time(), "action": action, "sessionId": body.get("sessionId"),
                               "timestamp": body.get("timestamp")})
    return success_response(status_code=200, body={})


def handle_audio_chunk(event, connection_id, body, ip_address):
    """Handle audio chunk from speaker - forward to kvs_stream_writer."""
    try:
        session_id = body.get("sessionId", "")
        audio_data_base64 = body.get("audioData", "")
        chunk_index = body.get("chunkIndex", 0)

        if not session_id or not audio_data_base64:
            logger.warning(message="Invalid audio chunk: missing sessionId or audioData",
                           correlation_id=connection_id, operation="handle_audio_chunk")
            return success_response(status_code=200, body={})

        # Verify connection is speaker role
        connection = connections_repo.get_connection(connection_id)
        if not connection or connection.get("role") != "speaker":
            logger.warning(message="Audio chunk from non-speaker connection",
                           correlation_id=connection_id, operation="handle_audio_chunk",
                           role=connection.get("role") if connection else "unknown")
            return success_response(status_code=200, body={})

        # Forward to kvs_stream_writer Lambda (here: a local file).
        kvs_writer_function = os.environ.get("KVS_STREAM_WRITER_FUNCTION", "kvs-stream-writer-dev")
        _append("forwarded.jsonl", {
            "functionName": kvs_writer_function,
            "action": "writeToStream",
            "sessionId": session_id,
            "audioData": audio_data_base64,
            "timestamp": body.get("timestamp", int(time.time() * 1000)),
            "format": body.get("format", "webm-opus"),
            "chunkIndex": chunk_index,
        })

        if chunk_index % 40 == 0:
            logger.info(message="Forwarded audio chunk %s to kvs_stream_writer" % chunk_index,
                        correlation_id="%s-%s" % (session_id, connection_id),
                        operation="handle_audio_chunk", sessionId=session_id, chunkIndex=chunk_index)
        return success_response(status_code=200, body={})
    except Exception as e:  # the design answers 200 whatever happened
        logger.error(message="Error handling audio chunk: %s" % e, correlation_id=connection_id,
                     operation="handle_audio_chunk", exc_info=True)
        return success_response(status_code=200, body={})
