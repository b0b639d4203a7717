/** Synapse's default push rule set (spec v1.12 defaults), so clients find every rule they expect. */
import type { Json } from "./types";

const SOUND = { set_tweak: "sound", value: "default" };
const HIGHLIGHT = { set_tweak: "highlight" };
const NO_HIGHLIGHT = { set_tweak: "highlight", value: false };

const rule = (rule_id: string, conditions: Json[], actions: unknown[], enabled = true): Json => ({
  rule_id,
  default: true,
  enabled,
  conditions,
  actions,
});

const match = (key: string, pattern: string): Json => ({ kind: "event_match", key, pattern });

export function defaultPushRules(userId: string): Json {
  const localpart = userId.slice(1, userId.indexOf(":"));
  return {
    global: {
      override: [
        rule(".m.rule.master", [], [], false),
        rule(".m.rule.suppress_notices", [match("content.msgtype", "m.notice")], []),
        rule(
          ".m.rule.invite_for_me",
          [match("type", "m.room.member"), match("content.membership", "invite"), match("state_key", userId)],
          ["notify", SOUND, NO_HIGHLIGHT],
        ),
        rule(".m.rule.member_event", [match("type", "m.room.member")], []),
        rule(
          ".m.rule.is_user_mention",
          [{ kind: "event_property_contains", key: "content.m\\.mentions.user_ids", value: userId }],
          ["notify", HIGHLIGHT, SOUND],
        ),
        rule(".m.rule.contains_display_name", [{ kind: "contains_display_name" }], ["notify", SOUND, HIGHLIGHT]),
        rule(
          ".m.rule.is_room_mention",
          [
            { kind: "event_property_is", key: "content.m\\.mentions.room", value: true },
            { kind: "sender_notification_permission", key: "room" },
          ],
          ["notify", HIGHLIGHT],
        ),
        rule(
          ".m.rule.roomnotif",
          [{ kind: "sender_notification_permission", key: "room" }, match("content.body", "@room")],
          ["notify", HIGHLIGHT],
        ),
        rule(".m.rule.tombstone", [match("type", "m.room.tombstone"), match("state_key", "")], ["notify", HIGHLIGHT]),
        rule(".m.rule.reaction", [match("type", "m.reaction")], []),
        rule(".m.rule.room.server_acl", [match("type", "m.room.server_acl"), match("state_key", "")], []),
        rule(".m.rule.suppress_edits", [{ kind: "event_property_is", key: "content.m\\.relates_to.rel_type", value: "m.replace" }], []),
      ],
      content: [
        { rule_id: ".m.rule.contains_user_name", default: true, enabled: true, pattern: localpart, actions: ["notify", SOUND, HIGHLIGHT] },
      ],
      room: [],
      sender: [],
      underride: [
        rule(".m.rule.call", [match("type", "m.call.invite")], ["notify", { set_tweak: "sound", value: "ring" }, NO_HIGHLIGHT]),
        rule(
          ".m.rule.encrypted_room_one_to_one",
          [{ kind: "room_member_count", is: "2" }, match("type", "m.room.encrypted")],
          ["notify", SOUND, NO_HIGHLIGHT],
        ),
        rule(
          ".m.rule.room_one_to_one",
          [{ kind: "room_member_count", is: "2" }, match("type", "m.room.message")],
          ["notify", SOUND, NO_HIGHLIGHT],
        ),
        rule(".m.rule.message", [match("type", "m.room.message")], ["notify", NO_HIGHLIGHT]),
        rule(".m.rule.encrypted", [match("type", "m.room.encrypted")], ["notify", NO_HIGHLIGHT]),
      ],
    },
  };
}
