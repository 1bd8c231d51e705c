"""A fake Telegram Bot API server for end-to-end tests and benchmarks (aiohttp, 127.0.0.1 only).

It answers the way Telegram does for the methods the bot uses, with Telegram's JSON shapes (see
../shared/TELEGRAM_NOTES.md) and its errors: 400 for bad requests, 401 for a wrong token, 403 for a user
who blocked the bot or never started it, 404 for an unknown method, 429 with retry_after on demand.
Tests talk to it as people would, through FakeUser: send a line, tap a button, share a contact.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from aiohttp import web

JSON_FIELDS = {"media", "reply_markup", "commands", "scope", "allowed_updates", "entities", "caption_entities",
               "link_preview_options", "reply_parameters"}
INT_FIELDS = {"offset", "limit", "timeout", "chat_id", "message_id", "max_connections", "user_id"}
BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "Demo HR Bot", "username": "DemoPlantHRBot",
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False,
            "can_connect_to_business": False, "has_main_web_app": False}


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    ok: bool
    code: int = 200


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-token"
    host: str = "127.0.0.1"
    port: int = 0
    calls: list[Call] = field(default_factory=list)
    ok_counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # method -> successful calls
    # chat id -> messages the bot sent there (Telegram Message dicts)
    sent: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    blocked: set[int] = field(default_factory=set)
    started: set[int] = field(default_factory=set)  # users who ever wrote to the bot
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    # Telegram's limits, enforced on demand: 429 past ~30 messages a second, or 1 a second to one chat.
    enforce_limits: bool = False
    per_second: int = 30
    # Messages one chat may get within any second. Telegram tolerates short bursts into a private chat (a
    # reply of two or three messages) and answers 429 past that; 1 is the strict "one a second".
    chat_burst: int = 1
    send_delay: float = 0.0  # seconds each send takes, to widen the window in which a process can be killed
    _sent_times: Any = field(default_factory=deque)
    _chat_times: dict[int, Any] = field(default_factory=dict)  # chat id -> deque of send times
    _forced: list[tuple[str, ApiError]] = field(default_factory=list)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _update_ids: Any = field(default_factory=lambda: count(1000))
    _message_ids: Any = field(default_factory=lambda: count(1))
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    _new_message: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    files: dict[str, bytes] = field(default_factory=dict)  # file_id -> content users sent
    edits: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # chat id -> messages edited
    # Groups (negative chat ids) the bot is in: members, pending join requests, the bot's admin rights, pins.
    groups: dict[int, FakeGroup] = field(default_factory=dict)
    group_per_minute: int = 20  # Telegram: at most 20 messages a minute into one group (always enforced)
    _group_times: dict[int, Any] = field(default_factory=dict)  # group id -> deque of send times

    # -- lifecycle ------------------------------------------------------------------------------------------
    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._new_update.set()  # release a hanging long poll
        if self._runner:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        """The Bot API root, as TELEGRAM_API_URL takes it."""
        return f"http://{self.host}:{self.port}"

    # -- test controls --------------------------------------------------------------------------------------
    def fail_next(self, method: str, code: int, description: str, retry_after: int | None = None) -> None:
        """The next call of ``method`` fails like Telegram would (e.g. 429 with retry_after)."""
        self._forced.append((method, ApiError(code, description, retry_after)))

    def user(self, user_id: int, first_name: str = "Test", language_code: str | None = "zh-hans") -> FakeUser:
        return FakeUser(self, user_id, first_name, language_code)

    def push_update(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, **update}
        self._updates.append(update)
        self._new_update.set()
        return update_id

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the bot did not do what the test waited for")
            self._new_message.clear()
            try:
                await asyncio.wait_for(self._new_message.wait(), min(remaining, 0.05))
            except TimeoutError:
                pass

    # -- HTTP -----------------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error(ApiError(401, "Unauthorized"))
        params = await self._params(request)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(ApiError(404, "Not Found"))
        try:
            for i, (name, err) in enumerate(self._forced):
                if name == method:
                    del self._forced[i]
                    raise err
            result = await handler(params) if asyncio.iscoroutinefunction(handler) else handler(params)
        except ApiError as err:
            self.calls.append(Call(method, params, time.monotonic(), False, err.code))
            return self._error(err)
        self.calls.append(Call(method, params, time.monotonic(), True))
        self.ok_counts[method] += 1
        self._new_message.set()
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        self.calls.append(Call("download", {"file_id": file_id}, time.monotonic(), True))
        return web.Response(body=self.files[file_id])

    @staticmethod
    def _error(err: ApiError) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": err.code, "description": err.description}
        if err.retry_after is not None:
            body["parameters"] = {"retry_after": err.retry_after}
        return web.json_response(body, status=err.code)

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        params: dict[str, Any] = dict(request.query)
        form = await request.post()
        for key, value in form.items():
            if hasattr(value, "file"):  # an uploaded file
                params[key] = {"filename": value.filename, "size": len(value.file.read())}
            elif key in JSON_FIELDS:
                params[key] = json.loads(str(value))
            elif key in INT_FIELDS:
                try:
                    params[key] = int(str(value))
                except ValueError:
                    params[key] = str(value)
            else:
                params[key] = str(value)
        return params

    # -- methods ------------------------------------------------------------------------------------------
    def _m_getMe(self, p: dict[str, Any]) -> dict[str, Any]:
        return BOT_USER

    async def _m_getUpdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = int(p.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]  # confirmed ones are gone
        limit = int(p.get("limit") or 100)
        timeout = float(p.get("timeout") or 0)
        if not self._updates and timeout > 0:
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except TimeoutError:
                pass
        return self._updates[:limit]

    def _check_chat(self, p: dict[str, Any]) -> int:
        if "chat_id" not in p:
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            chat_id = int(p["chat_id"])
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None
        if chat_id < 0:
            group = self.groups.get(chat_id)
            if group is None:
                raise ApiError(400, "Bad Request: chat not found")
            if group.bot_status in ("left", "kicked"):
                raise ApiError(403, "Forbidden: bot was kicked from the supergroup chat")
            return chat_id
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id > 0 and chat_id not in self.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat_id

    @staticmethod
    def _check_markup(markup: dict[str, Any] | None) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")

    def _message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        msg = {"message_id": next(self._message_ids), "date": int(time.time()), "from": BOT_USER,
               "chat": {"id": chat_id, "type": "private", "first_name": "User"} if chat_id > 0 else
               {"id": chat_id, "type": "supergroup", "title": self.groups[chat_id].title if chat_id in self.groups
                else "Group"},
               **{k: v for k, v in content.items() if v is not None}}
        self.sent[chat_id].append(msg)  # what the user sees, reply keyboards included
        if "inline_keyboard" not in (msg.get("reply_markup") or {}):
            # Telegram echoes only inline keyboards back in the sent Message.
            return {k: v for k, v in msg.items() if k != "reply_markup"}
        return msg

    def _limit(self, chat_id: int, count: int = 1) -> None:
        """Telegram's limits (when enforced): ``count`` messages now into ``chat_id`` (an album counts each).
        A group's 20 a minute is always enforced: 429 with retry_after until the oldest leaves the minute."""
        if chat_id < 0:
            now = time.monotonic()
            times = self._group_times.setdefault(chat_id, deque())
            while times and times[0] <= now - 60.0:
                times.popleft()
            if len(times) + count > self.group_per_minute:
                wait = max(1, int(times[0] + 60.0 - now + 0.999))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
            times.extend([now] * count)
        if not self.enforce_limits:
            return
        now = time.monotonic()
        while self._sent_times and self._sent_times[0] <= now - 1.0:
            self._sent_times.popleft()
        if len(self._sent_times) + count > self.per_second:
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        chat = self._chat_times.setdefault(chat_id, deque())
        while chat and chat[0] <= now - 1.0:
            chat.popleft()
        if len(chat) + count > self.chat_burst:
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        self._sent_times.extend([now] * count)
        chat.extend([now] * count)

    async def _m_sendMessage(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.send_delay:
            await asyncio.sleep(self.send_delay)
        chat_id = self._check_chat(p)
        self._limit(chat_id)
        text = p.get("text", "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        self._check_markup(p.get("reply_markup"))
        return self._message(chat_id, text=text, reply_markup=p.get("reply_markup"), parse_mode=p.get("parse_mode"),
                             allow_paid_broadcast=p.get("allow_paid_broadcast"))

    def _media(self, p: dict[str, Any], kind: str) -> dict[str, Any]:
        chat_id = self._check_chat(p)
        self._limit(chat_id)
        source = p.get(kind)
        if not source:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        caption = p.get("caption")
        if caption is not None and len(caption) > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        file_id = source if isinstance(source, str) and not source.startswith("attach://") else \
            f"{kind}-{next(self._message_ids)}"
        media: Any
        if kind == "photo":
            media = [{"file_id": file_id, "file_unique_id": file_id + "u", "width": 800, "height": 450}]
        elif kind == "video":
            media = {"file_id": file_id, "file_unique_id": file_id + "u", "width": 640, "height": 360,
                     "duration": 10}
        else:
            media = {"file_id": file_id, "file_unique_id": file_id + "u"}
        return self._message(chat_id, caption=caption, **{kind: media, "reply_markup": p.get("reply_markup")})

    def _m_editMessageText(self, p: dict[str, Any]) -> dict[str, Any]:
        """Change a message the bot sent (the newest text is what the user sees; ``edits`` counts them)."""
        chat_id = int(p.get("chat_id", 0))
        message_id = int(p.get("message_id", 0))
        msg = next((m for m in self.sent.get(chat_id, []) if m["message_id"] == message_id), None)
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        text = p.get("text", "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        self._check_markup(p.get("reply_markup"))
        if msg.get("text") == text and msg.get("reply_markup") == p.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        msg["text"] = text
        msg["edit_date"] = int(time.time())
        if p.get("reply_markup") is not None:
            msg["reply_markup"] = p["reply_markup"]
        else:
            msg.pop("reply_markup", None)
        self.edits[chat_id] += 1
        return msg

    def _m_sendPhoto(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._media(p, "photo")

    def _m_sendVideo(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._media(p, "video")

    def _m_sendDocument(self, p: dict[str, Any]) -> dict[str, Any]:
        return self._media(p, "document")

    def _m_sendMediaGroup(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        """2-10 documents (or photos/videos; documents only with documents), one message each."""
        chat_id = self._check_chat(p)
        media = p.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the group: 2-10 are allowed")
        kinds = {m.get("type") for m in media}
        if "document" in kinds and kinds != {"document"}:
            raise ApiError(400, "Bad Request: documents can't be mixed with other media types")
        self._limit(chat_id, len(media))
        out = []
        group = str(next(self._message_ids))
        for m in media:
            source = m.get("media", "")
            if isinstance(source, str) and source.startswith("attach://") and source[9:] not in p:
                raise ApiError(400, "Bad Request: can't find the attached file")
            file_id = source if isinstance(source, str) and not source.startswith("attach://") else \
                f"document-{next(self._message_ids)}"
            caption = m.get("caption")
            if caption is not None and len(caption) > 1024:
                raise ApiError(400, "Bad Request: message caption is too long")
            doc = {"file_id": file_id, "file_unique_id": file_id + "u"}
            out.append(self._message(chat_id, caption=caption, media_group_id=group, document=doc))
        return out

    def _m_getFile(self, p: dict[str, Any]) -> dict[str, Any]:
        file_id = str(p.get("file_id", ""))
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        size = len(self.files[file_id])
        if size > 20 * 1024 * 1024:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": file_id + "u", "file_size": size,
                "file_path": f"documents/{file_id}"}

    def _m_answerCallbackQuery(self, p: dict[str, Any]) -> bool:
        if not p.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return True

    def _m_setMyCommands(self, p: dict[str, Any]) -> bool:
        for cmd in p.get("commands", []):
            if not cmd.get("command") or not 1 <= len(cmd.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: command description is empty or too long")
        scope = json.dumps(p.get("scope") or {"type": "default"}, sort_keys=True)
        if (p.get("scope") or {}).get("type") == "chat" and int(p["scope"]["chat_id"]) not in self.started:
            raise ApiError(400, "Bad Request: chat not found")
        self.commands[(scope, p.get("language_code") or "")] = p.get("commands", [])
        return True

    def _m_deleteMyCommands(self, p: dict[str, Any]) -> bool:
        return True

    def _m_setWebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = {"url": p.get("url", ""), "secret_token": p.get("secret_token"),
                        "allowed_updates": p.get("allowed_updates")}
        return True

    def _m_deleteWebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    def _m_getWebhookInfo(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    # -- groups -------------------------------------------------------------------------------------------------
    def group(self, chat_id: int = -1001000000001, title: str = "同期群", bot_status: str = "administrator",
              **rights: bool) -> FakeGroup:
        """A supergroup the bot was added to (as an admin with every right unless told otherwise)."""
        group = FakeGroup(self, chat_id, title, bot_status)
        group.rights.update(rights)
        self.groups[chat_id] = group
        return group

    def _group_of(self, p: dict[str, Any]) -> FakeGroup:
        chat_id = self._check_chat(p)
        if chat_id > 0:
            raise ApiError(400, "Bad Request: method is available for supergroup and channel chats only")
        return self.groups[chat_id]

    @staticmethod
    def _need(group: FakeGroup, right: str, description: str) -> None:
        if group.bot_status != "administrator" or not group.rights.get(right):
            raise ApiError(400, f"Bad Request: {description}")

    def _m_getChatMember(self, p: dict[str, Any]) -> dict[str, Any]:
        group = self._group_of(p)
        user_id = int(p.get("user_id", 0))
        if user_id == BOT_USER["id"]:
            if group.bot_status != "administrator":
                return {"status": group.bot_status, "user": BOT_USER}
            flags = {k: False for k in ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                                        "can_manage_video_chats", "can_promote_members", "can_change_info",
                                        "can_post_stories", "can_edit_stories", "can_delete_stories",
                                        "can_manage_topics")}
            return {"status": "administrator", "user": BOT_USER, **flags, "can_manage_chat": True,
                    **{k: bool(group.rights.get(k)) for k in ("can_invite_users", "can_restrict_members",
                                                             "can_pin_messages")}}
        user = {"id": user_id, "is_bot": False, "first_name": "User"}
        if user_id in group.banned:
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": "member" if user_id in group.members else "left", "user": user}

    def _m_createChatInviteLink(self, p: dict[str, Any]) -> dict[str, Any]:
        group = self._group_of(p)
        self._need(group, "can_invite_users", "not enough rights to manage chat invite link")
        joins = str(p.get("creates_join_request", "")).lower() == "true"
        if joins and p.get("member_limit"):
            raise ApiError(400, "Bad Request: member limit can't be specified for links requiring approval")
        link = {"invite_link": f"https://t.me/+fake{next(self._message_ids)}", "creator": BOT_USER,
                "creates_join_request": joins, "is_primary": False, "is_revoked": False}
        if p.get("name"):
            link["name"] = p["name"]
        group.links.append(link)
        return link

    def _m_revokeChatInviteLink(self, p: dict[str, Any]) -> dict[str, Any]:
        group = self._group_of(p)
        self._need(group, "can_invite_users", "not enough rights to manage chat invite link")
        link = next((x for x in group.links if x["invite_link"] == p.get("invite_link")), None)
        if link is None:
            raise ApiError(400, "Bad Request: INVITE_HASH_EXPIRED")
        link["is_revoked"] = True
        return link

    def _join_request(self, p: dict[str, Any]) -> tuple[FakeGroup, int]:
        group = self._group_of(p)
        self._need(group, "can_invite_users", "CHAT_ADMIN_REQUIRED")
        user_id = int(p.get("user_id", 0))
        if user_id not in group.requests:
            raise ApiError(400, "Bad Request: HIDE_REQUESTER_MISSING")
        group.requests.discard(user_id)
        return group, user_id

    def _m_approveChatJoinRequest(self, p: dict[str, Any]) -> bool:
        group, user_id = self._join_request(p)
        group.members.add(user_id)
        group.approved.append(user_id)
        return True

    def _m_declineChatJoinRequest(self, p: dict[str, Any]) -> bool:
        group, user_id = self._join_request(p)
        group.declined.append(user_id)
        return True

    def _m_banChatMember(self, p: dict[str, Any]) -> bool:
        group = self._group_of(p)
        self._need(group, "can_restrict_members", "not enough rights to restrict/unrestrict chat member")
        user_id = int(p.get("user_id", 0))
        group.members.discard(user_id)
        group.banned.add(user_id)
        return True

    def _m_unbanChatMember(self, p: dict[str, Any]) -> bool:
        group = self._group_of(p)
        self._need(group, "can_restrict_members", "not enough rights to restrict/unrestrict chat member")
        user_id = int(p.get("user_id", 0))
        if str(p.get("only_if_banned", "")).lower() == "true" and user_id not in group.banned:
            return True
        group.banned.discard(user_id)
        group.members.discard(user_id)  # Telegram: unbanning a member removes them unless only_if_banned
        return True

    def _m_pinChatMessage(self, p: dict[str, Any]) -> bool:
        group = self._group_of(p)
        self._need(group, "can_pin_messages", "not enough rights to manage pinned messages in the chat")
        message_id = int(p.get("message_id", 0))
        known = {m["message_id"] for m in self.sent.get(group.id, [])} | group.message_ids
        if message_id not in known:
            raise ApiError(400, "Bad Request: message to pin not found")
        group.pinned.append(message_id)
        return True

    def _m_close(self, p: dict[str, Any]) -> bool:
        return True

    def _m_logOut(self, p: dict[str, Any]) -> bool:
        return True


@dataclass
class FakeUser:
    """A person with a Telegram account, chatting with the bot through the fake server."""

    server: FakeTelegram
    id: int
    first_name: str
    language_code: str | None

    def _user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.first_name}

    def _msg(self, **content: Any) -> dict[str, Any]:
        return {"message_id": next(self.server._message_ids), "date": int(time.time()), "chat": self._chat(),
                "from": self._user(), **content}

    @property
    def inbox(self) -> list[dict[str, Any]]:
        return self.server.sent[self.id]

    async def _exchange(self, update: dict[str, Any], expect: int, settle: float = 0.15) -> list[dict[str, Any]]:
        """Push an update; return what the bot sent to this chat in response (once it has gone quiet)."""
        self.server.started.add(self.id)
        before = len(self.inbox)
        self.server.push_update(update)
        if expect == 0:
            await asyncio.sleep(0.4)
            return self.inbox[before:]
        await self.server.wait_for(lambda: len(self.inbox) >= before + expect)
        seen = len(self.inbox)
        while True:
            await asyncio.sleep(settle)
            if len(self.inbox) == seen:
                return self.inbox[before:]
            seen = len(self.inbox)

    async def send(self, text: str, expect: int = 1) -> list[dict[str, Any]]:
        msg = self._msg(text=text)
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self._exchange({"message": msg}, expect)

    async def reply(self, to: dict[str, Any], text: str, expect: int = 1) -> list[dict[str, Any]]:
        """Reply (swipe left, "Reply") to a message the bot sent to this user."""
        return await self._exchange({"message": self._msg(text=text, reply_to_message=to)}, expect)

    async def share_contact(self, phone: str, owner_id: int | None = None, expect: int = 1) -> list[dict[str, Any]]:
        contact = {"phone_number": phone, "first_name": self.first_name,
                   "user_id": self.id if owner_id is None else owner_id}
        return await self._exchange({"message": self._msg(contact=contact)}, expect)

    async def send_photo(self, content: bytes, expect: int = 1) -> list[dict[str, Any]]:
        file_id = f"up-photo-{next(self.server._message_ids)}"
        self.server.files[file_id] = content
        sizes = [{"file_id": file_id + "-small", "file_unique_id": file_id + "s", "width": 90, "height": 90,
                  "file_size": 1000},
                 {"file_id": file_id, "file_unique_id": file_id + "u", "width": 1280, "height": 960,
                  "file_size": len(content)}]
        return await self._exchange({"message": self._msg(photo=sizes)}, expect)

    async def send_document(self, content: bytes, name: str, mime: str, expect: int = 1,
                            declared_size: int | None = None) -> list[dict[str, Any]]:
        file_id = f"up-doc-{next(self.server._message_ids)}"
        self.server.files[file_id] = content
        doc = {"file_id": file_id, "file_unique_id": file_id + "u", "file_name": name, "mime_type": mime,
               "file_size": declared_size if declared_size is not None else len(content)}
        return await self._exchange({"message": self._msg(document=doc)}, expect)

    async def send_video(self, size: int, caption: str | None = None, expect: int = 1) -> list[dict[str, Any]]:
        """A video (Telegram keeps it; bots re-send it by file_id)."""
        file_id = f"up-video-{next(self.server._message_ids)}"
        video = {"file_id": file_id, "file_unique_id": file_id + "u", "width": 640, "height": 360, "duration": 10,
                 "mime_type": "video/mp4", "file_size": size}
        extra = {"caption": caption} if caption else {}
        return await self._exchange({"message": self._msg(video=video, **extra)}, expect)

    async def send_sticker(self, expect: int = 1) -> list[dict[str, Any]]:
        sticker = {"file_id": "stk", "file_unique_id": "stku", "type": "regular", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False}
        return await self._exchange({"message": self._msg(sticker=sticker)}, expect)

    async def send_voice(self, expect: int = 1) -> list[dict[str, Any]]:
        return await self._exchange({"message": self._msg(voice={"file_id": "v", "file_unique_id": "vu",
                                                                  "duration": 3})}, expect)

    async def edit(self, text: str, expect: int = 1) -> list[dict[str, Any]]:
        msg = self._msg(text=text, edit_date=int(time.time()))
        return await self._exchange({"edited_message": msg}, expect)

    async def click(self, label_or_data: str, expect: int = 1) -> list[dict[str, Any]]:
        """Tap an inline button on the newest bot message that has one with this text or data."""
        for message in reversed(self.inbox):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label_or_data in (button.get("callback_data"), button.get("text")):
                        query = {"id": f"cb{next(self.server._message_ids)}", "from": self._user(),
                                 "chat_instance": f"ci{self.id}", "data": button["callback_data"],
                                 "message": message}
                        return await self._exchange({"callback_query": query}, expect)
        raise AssertionError(f"no button {label_or_data!r} in the chat with {self.id}")


@dataclass
class FakeGroup:
    """A supergroup with the bot in it: people ask to join through the bot's link, talk, mention the bot."""

    server: FakeTelegram
    id: int
    title: str
    bot_status: str = "administrator"  # administrator | member | left | kicked
    rights: dict[str, bool] = field(default_factory=lambda: {"can_invite_users": True, "can_restrict_members": True,
                                                              "can_pin_messages": True})
    members: set[int] = field(default_factory=set)
    banned: set[int] = field(default_factory=set)
    requests: set[int] = field(default_factory=set)  # pending join requests
    approved: list[int] = field(default_factory=list)
    declined: list[int] = field(default_factory=list)
    pinned: list[int] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    message_ids: set[int] = field(default_factory=set)  # messages people posted

    def _chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": "supergroup", "title": self.title}

    @property
    def inbox(self) -> list[dict[str, Any]]:
        """What the bot posted in the group."""
        return self.server.sent[self.id]

    def request_join(self, user: FakeUser) -> int:
        """``user`` taps the group's join-request link (Telegram then sends the bot a chat_join_request)."""
        if not self.links:
            raise AssertionError("the bot has made no invite link for this group")
        if self.links[-1]["is_revoked"]:
            return 0  # Telegram tells the user the link has expired; the bot hears nothing
        self.requests.add(user.id)
        return self.server.push_update({"chat_join_request": {
            "chat": self._chat(), "from": user._user(), "user_chat_id": user.id, "date": int(time.time()),
            "invite_link": self.links[-1]}})

    def post(self, user: FakeUser, text: str, *, mention: bool = False, reply_to: dict[str, Any] | None = None) -> int:
        """``user`` writes in the group; ``mention`` puts @<bot username> in front, ``reply_to`` replies to a message.
        Telegram delivers it to a bot in privacy mode only when it is a command, a mention or a reply to the bot
        (here every message is delivered: the bot must ignore what is not for it)."""
        if mention:
            text = f"@{BOT_USER['username']} {text}"
        msg: dict[str, Any] = {"message_id": next(self.server._message_ids), "date": int(time.time()),
                               "chat": self._chat(), "from": user._user(), "text": text}
        entities = []
        if text.startswith("/"):
            entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
        if mention:
            entities.append({"type": "mention", "offset": 0, "length": len(str(BOT_USER["username"])) + 1})
        if entities:
            msg["entities"] = entities
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        self.message_ids.add(msg["message_id"])
        return self.server.push_update({"message": msg})


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)
