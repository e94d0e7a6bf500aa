import { describe, expect, it } from "vitest";
import { metadataUrls } from "../../../workers/authorization-server/jwks/discovery";

describe("metadataUrls", () => {
  it("tries the RFC 8414 then the OIDC document of an issuer without a path", () => {
    expect(metadataUrls("https://idp.example.com")).toEqual([
      "https://idp.example.com/.well-known/oauth-authorization-server",
      "https://idp.example.com/.well-known/openid-configuration",
    ]);
  });
  it("inserts the well-known segment before an issuer's path (RFC 8414 §3.1), then appends it (OIDC)", () => {
    expect(metadataUrls("https://acme.okta.com/oauth2/default")).toEqual([
      "https://acme.okta.com/.well-known/oauth-authorization-server/oauth2/default",
      "https://acme.okta.com/.well-known/openid-configuration/oauth2/default",
      "https://acme.okta.com/oauth2/default/.well-known/openid-configuration",
    ]);
  });
  it("removes a terminating slash before inserting", () => {
    expect(metadataUrls("https://idp.example.com/tenant/")[0]).toBe(
      "https://idp.example.com/.well-known/oauth-authorization-server/tenant",
    );
    expect(metadataUrls("https://idp.example.com/")).toHaveLength(2);
  });
});
