/** An audio+data offer the size and shape a browser sends (about 2.5 KB),
 *  so memory and latency figures carry a realistic payload. */
export function realisticOffer(): string {
  const lines = [
    "v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
    "a=group:BUNDLE 0 1", "a=extmap-allow-mixed", "a=msid-semantic: WMS stream",
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126", "c=IN IP4 0.0.0.0", "a=rtcp:9 IN IP4 0.0.0.0",
    "a=candidate:1467250027 1 udp 2122260223 192.168.0.196 46243 typ host generation 0 network-id 1",
    "a=candidate:1467250027 2 udp 2122260222 192.168.0.196 56280 typ host generation 0 network-id 1",
    "a=candidate:435653019 1 tcp 1845501695 192.168.0.196 0 typ host tcptype active generation 0 network-id 1",
    "a=ice-ufrag:Oyef", "a=ice-pwd:3jOtmYvJrDzXxQzWbSvqD4xq", "a=ice-options:trickle",
    "a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:98:55:23:7C:FA:2A:3E:CE:9A:3C:9E:E7:0D:05:8B:F5:D8:A8:25:5A:36",
    "a=setup:actpass", "a=mid:0",
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level", "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
    "a=sendrecv", "a=msid:stream 7f3b1c2e-5d4a-4b8e-9c61-2f0a9d8e7b6c", "a=rtcp-mux", "a=rtcp-rsize",
    "a=rtpmap:111 opus/48000/2", "a=rtcp-fb:111 transport-cc", "a=fmtp:111 minptime=10;useinbandfec=1",
    "a=rtpmap:63 red/48000/2", "a=fmtp:63 111/111", "a=rtpmap:9 G722/8000", "a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:13 CN/8000", "a=rtpmap:110 telephone-event/48000", "a=rtpmap:126 telephone-event/8000",
    "a=ssrc:3541879243 cname:4TOk42mSjXCkVIa6", "a=ssrc:3541879243 msid:stream 7f3b1c2e-5d4a-4b8e-9c61-2f0a9d8e7b6c",
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "c=IN IP4 0.0.0.0",
    "a=candidate:1467250027 1 udp 2122260223 192.168.0.196 46244 typ host generation 0 network-id 1",
    "a=ice-ufrag:Oyef", "a=ice-pwd:3jOtmYvJrDzXxQzWbSvqD4xq", "a=ice-options:trickle",
    "a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:98:55:23:7C:FA:2A:3E:CE:9A:3C:9E:E7:0D:05:8B:F5:D8:A8:25:5A:36",
    "a=setup:actpass", "a=mid:1", "a=sctp-port:5000", "a=max-message-size:262144",
  ];
  return lines.join("\r\n") + "\r\n";
}
