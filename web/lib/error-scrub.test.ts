import { describe, expect, it } from "vitest";
import { scrubEvent, scrubText, withoutQuery } from "./error-scrub";

describe("error-scrub", () => {
  it("masks tokens, secrets and query strings in text", () => {
    expect(scrubText("used pan_abcdefghijklmnop here")).toBe("used pan_[Filtered] here");
    expect(scrubText("cookie pss_abcdefghijklmnop")).toBe("cookie pss_[Filtered]");
    expect(scrubText("GET /api/v1/auth/verify?token=abc123&next=/x"))
      .toBe("GET /api/v1/auth/verify?token=[Filtered]&next=/x");
    expect(scrubText("at https://app.example/signin?token=abc#x")).toBe("at https://app.example/signin?[Filtered]#x");
    expect(scrubText("Authorization: Bearer abc.def")).toBe("Authorization: Bearer [Filtered]");
    expect(scrubText("nothing to hide")).toBe("nothing to hide");
  });

  it("drops query strings and fragments from URLs", () => {
    expect(withoutQuery("https://app.example/signin/?token=abc#top")).toBe("https://app.example/signin/");
    expect(withoutQuery("/rooms/r1/")).toBe("/rooms/r1/");
  });

  it("keeps no cookie, header, body or query of the page's request", () => {
    const event = scrubEvent({
      message: "failed with pan_abcdefghijklmnop",
      request: {
        url: "https://app.example/auth/verify/?token=secret-link-token",
        cookies: { pantheon_session: "pss_abcdefghijklmnop" },
        headers: { Referer: "https://app.example/?token=x" },
        query_string: "token=secret-link-token",
        data: { token: "secret" },
      },
      breadcrumbs: [{ category: "navigation", data: { from: "/signin/?token=t1", to: "/rooms/" } },
        { category: "fetch", data: { url: "/api/v1/auth/verify?token=t2", status_code: 200 } }],
    });
    const text = JSON.stringify(event);
    for (const secret of ["secret-link-token", "pss_abcdefghijklmnop", "t1", "t2", "pan_abcdefghijklmnop"]) {
      expect(text).not.toContain(secret);
    }
    expect(event.request).toEqual({ url: "https://app.example/auth/verify/" });
    expect(event.breadcrumbs[1]?.data.status_code).toBe(200);
  });
});
