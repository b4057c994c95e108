import { sftpArgument, sftpPath } from "../remote/tail-pull.js";

// The paths an sftp batch command is given (pulling them from a real sshd: test/fetch-remote.test.ts).
describe("sftp batch arguments", () => {
  test("double-quoted, with backslashes and quotes escaped; glob characters left to sftp, which escapes quoted ones", () => {
    expect(sftpArgument("/srv/ams/storage/system_logs.json")).toBe('"/srv/ams/storage/system_logs.json"');
    expect(sftpArgument('odd [dir]*?/st"o\\re #1.json')).toBe('"odd [dir]*?/st\\"o\\\\re #1.json"');
  });

  test("a line break, a control character or a leading '-' cannot be given: none", () => {
    for (const file of ["a\nb", "a\rb", "a\tb", "a\u0000b", "a\u007fb", "-rf"])
      expect(sftpArgument(file)).toBeUndefined();
  });

  test("sftp starts in the home and expands no '~': '~/' is dropped, '~user' cannot be given", () => {
    expect(sftpPath("AMS/storage/system_logs.json")).toBe("AMS/storage/system_logs.json");
    expect(sftpPath("/srv/ams/x.json")).toBe("/srv/ams/x.json");
    expect(sftpPath("~/AMS/storage/system_logs.json")).toBe("AMS/storage/system_logs.json");
    expect(sftpPath("~//x.json")).toBe("x.json");
    expect(sftpPath("~")).toBeUndefined();
    expect(sftpPath("~/")).toBeUndefined();
    expect(sftpPath("~bob/AMS/x.json")).toBeUndefined();
  });
});
