import { waitFor } from "./fixture";
import { RawMatrixUser } from "./matrixUser";

export interface BotReply { body: string; html: string }

/** A user's DM with the bridge bot, driven with real room messages. */
export class BotChat {
  private constructor(readonly user: RawMatrixUser, readonly roomId: string, readonly botUserId: string) {}

  /** Creates a DM with the bot, as a Matrix client would, and waits for its welcome. */
  static async open(user: RawMatrixUser, botUserId: string): Promise<BotChat> {
    const { room_id: roomId } = await user.request("POST", "/_matrix/client/v3/createRoom",
      { invite: [botUserId], is_direct: true, preset: "trusted_private_chat" });
    const chat = new BotChat(user, roomId, botUserId);
    await chat.nextReply(0);
    return chat;
  }

  private async botMessages(): Promise<any[]> {
    return (await this.user.hs.timeline(this.roomId)).filter((e) => e.sender === this.botUserId && e.type === "m.room.message");
  }

  private async nextReply(seen: number): Promise<BotReply> {
    const reply = await waitFor(async () => (await this.botMessages())[seen], 10_000, "a reply from the bot");
    return { body: reply.content.body, html: reply.content.formatted_body };
  }

  /** Sends `text` and returns the bot's reply to it. */
  async command(text: string): Promise<BotReply> {
    const seen = (await this.botMessages()).length;
    await this.user.send(this.roomId, "m.room.message", { msgtype: "m.text", body: text });
    return this.nextReply(seen);
  }
}
