/**
 * A department WebService for tests and the demo, built with the `soap` package: the ASMX-style
 * service many approval systems expose, with a SOAP 1.1 and a SOAP 1.2 binding and two
 * operations —
 *
 * - `GetCases(since, until, page, pageSize)` → `GetCasesResult`: the records as a document in a
 *   string (the spec's XML batch form, or the department's own XML in GB2312/GBK, as
 *   `<?xml version="1.0" encoding="gb2312"?><paras>…` services do);
 * - `GetCaseRows(since, until, page, pageSize)` → `GetCaseRowsResult`: the department's own rows
 *   as SOAP elements (`<ROW><PROJID>…`), read through the department's mapping.
 *
 * Optionally guarded by HTTP basic auth or a WS-Security UsernameToken.
 */
import { createServer, type Server } from 'node:http';
import soap from 'soap';
import { documentToXmlText } from '../../../schemas/xml-form.js';
import type { EaJcRow } from './ea-jc.js';

const NS = 'http://tempuri.org/';

export const DEPT_SOAP_WSDL = (location: string) => `<?xml version="1.0" encoding="utf-8"?>
<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
  xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/" xmlns:s="http://www.w3.org/2001/XMLSchema"
  xmlns:tns="${NS}" targetNamespace="${NS}">
  <wsdl:types>
    <s:schema elementFormDefault="qualified" targetNamespace="${NS}">
      <s:complexType name="Query">
        <s:sequence>
          <s:element minOccurs="0" maxOccurs="1" name="since" type="s:string"/>
          <s:element minOccurs="0" maxOccurs="1" name="until" type="s:string"/>
          <s:element minOccurs="0" maxOccurs="1" name="page" type="s:int"/>
          <s:element minOccurs="0" maxOccurs="1" name="pageSize" type="s:int"/>
        </s:sequence>
      </s:complexType>
      <s:element name="GetCases" type="tns:Query"/>
      <s:element name="GetCasesResponse">
        <s:complexType><s:sequence><s:element minOccurs="0" maxOccurs="1" name="GetCasesResult" type="s:string"/></s:sequence></s:complexType>
      </s:element>
      <s:element name="GetCaseRows" type="tns:Query"/>
      <s:element name="GetCaseRowsResponse">
        <s:complexType><s:sequence><s:element minOccurs="0" maxOccurs="1" name="GetCaseRowsResult" type="s:anyType"/></s:sequence></s:complexType>
      </s:element>
    </s:schema>
  </wsdl:types>
  <wsdl:message name="GetCasesSoapIn"><wsdl:part name="parameters" element="tns:GetCases"/></wsdl:message>
  <wsdl:message name="GetCasesSoapOut"><wsdl:part name="parameters" element="tns:GetCasesResponse"/></wsdl:message>
  <wsdl:message name="GetCaseRowsSoapIn"><wsdl:part name="parameters" element="tns:GetCaseRows"/></wsdl:message>
  <wsdl:message name="GetCaseRowsSoapOut"><wsdl:part name="parameters" element="tns:GetCaseRowsResponse"/></wsdl:message>
  <wsdl:portType name="CaseExchangeSoap">
    <wsdl:operation name="GetCases"><wsdl:input message="tns:GetCasesSoapIn"/><wsdl:output message="tns:GetCasesSoapOut"/></wsdl:operation>
    <wsdl:operation name="GetCaseRows"><wsdl:input message="tns:GetCaseRowsSoapIn"/><wsdl:output message="tns:GetCaseRowsSoapOut"/></wsdl:operation>
  </wsdl:portType>
  <wsdl:binding name="CaseExchangeSoap" type="tns:CaseExchangeSoap">
    <soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="GetCases"><soap:operation soapAction="${NS}GetCases" style="document"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
    <wsdl:operation name="GetCaseRows"><soap:operation soapAction="${NS}GetCaseRows" style="document"/>
      <wsdl:input><soap:body use="literal"/></wsdl:input><wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>
  </wsdl:binding>
  <wsdl:binding name="CaseExchangeSoap12" type="tns:CaseExchangeSoap">
    <soap12:binding transport="http://schemas.xmlsoap.org/soap/http"/>
    <wsdl:operation name="GetCases"><soap12:operation soapAction="${NS}GetCases" style="document"/>
      <wsdl:input><soap12:body use="literal"/></wsdl:input><wsdl:output><soap12:body use="literal"/></wsdl:output></wsdl:operation>
    <wsdl:operation name="GetCaseRows"><soap12:operation soapAction="${NS}GetCaseRows" style="document"/>
      <wsdl:input><soap12:body use="literal"/></wsdl:input><wsdl:output><soap12:body use="literal"/></wsdl:output></wsdl:operation>
  </wsdl:binding>
  <wsdl:service name="CaseExchange">
    <wsdl:port name="CaseExchangeSoap" binding="tns:CaseExchangeSoap"><soap:address location="${location}"/></wsdl:port>
    <wsdl:port name="CaseExchangeSoap12" binding="tns:CaseExchangeSoap12"><soap12:address location="${location}"/></wsdl:port>
  </wsdl:service>
</wsdl:definitions>`;

export interface DeptSoapOptions {
  /** What GetCases returns in its string: the spec's XML batch form, or the department's XML (GB2312 declared). */
  readonly document?: 'spec-xml' | 'dept-xml';
  readonly auth?: { readonly type: 'basic' | 'ws-security'; readonly username: string; readonly password: string };
  /** Records of the spec's form, for `spec-xml`. */
  readonly specRecords?: () => Record<string, unknown>[];
  readonly senderDept?: string;
}

export interface SoapCall {
  readonly operation: string;
  readonly args: Readonly<Record<string, unknown>>;
  readonly soap12: boolean;
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export class DeptSoapSimulator {
  readonly calls: SoapCall[] = [];
  private readonly rows: Array<{ row: EaJcRow; updated: number }> = [];
  private server?: Server;
  url = '';

  constructor(private readonly options: DeptSoapOptions = {}) {}

  add(rows: readonly EaJcRow[], updated: Date = new Date()): void {
    for (const row of rows) this.rows.push({ row, updated: updated.getTime() });
  }

  private page(args: Record<string, unknown>): EaJcRow[] {
    // Times come as RFC 3339 or as `yyyy-MM-dd HH:mm:ss` in China time, as department services take them.
    const time = (v: unknown, dflt: number) => (typeof v !== 'string' || v === '' ? dflt : Date.parse(v.includes('T') ? v : `${v.replace(' ', 'T')}+08:00`));
    const since = time(args['since'], -Infinity);
    const until = time(args['until'], Infinity);
    const all = this.rows.filter((r) => r.updated >= since && r.updated <= until).sort((a, b) => a.updated - b.updated || (a.row.PROJID < b.row.PROJID ? -1 : 1));
    const size = Number(args['pageSize'] ?? 100);
    const page = Number(args['page'] ?? 1);
    return all.slice((page - 1) * size, page * size).map((r) => r.row);
  }

  private authorized(headers: import('node:http').IncomingHttpHeaders, soapHeader: Record<string, unknown> | undefined): boolean {
    const a = this.options.auth;
    if (a === undefined) return true;
    if (a.type === 'basic') return headers.authorization === `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
    const token = (soapHeader?.['Security'] as Record<string, unknown> | undefined)?.['UsernameToken'] as Record<string, unknown> | undefined;
    const pw = token?.['Password'];
    const pwText = typeof pw === 'object' && pw !== null ? (pw as Record<string, unknown>)['$value'] : pw;
    return token?.['Username'] === a.username && pwText === a.password;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    this.url = `http://127.0.0.1:${addr.port}/CaseExchange.asmx`;
    const fault = (text: string) => ({ Fault: { Code: { Value: 'soap:Sender' }, Reason: { Text: text }, faultcode: 'soap:Client', faultstring: text, statusCode: 500 } });
    const handler = (operation: string) => (args: Record<string, unknown>, _cb: unknown, headers: Record<string, unknown> | undefined, req: import('node:http').IncomingMessage) => {
      this.calls.push({ operation, args, soap12: String(req.headers['content-type'] ?? '').includes('application/soap+xml') });
      if (!this.authorized(req.headers, headers)) throw fault('认证失败 authentication failed');
      const rows = this.page(args);
      if (operation === 'GetCaseRows') return { GetCaseRowsResult: { ROW: rows } };
      if (this.options.document === 'spec-xml') {
        const records = (this.options.specRecords?.() ?? []).slice(0, rows.length);
        const doc = { specVersion: '1', batchId: `SOAP-${Date.now()}`, senderDept: this.options.senderDept ?? '', sentAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), records };
        return { GetCasesResult: documentToXmlText(doc, 'UTF-8') };
      }
      const body = rows.map((r) => `<ROW>${Object.entries(r).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('')}</ROW>`).join('');
      return { GetCasesResult: `<?xml version="1.0" encoding="gb2312"?><paras><DATA>${body}</DATA></paras>` };
    };
    const service = {
      CaseExchange: {
        CaseExchangeSoap: { GetCases: handler('GetCases'), GetCaseRows: handler('GetCaseRows') },
        CaseExchangeSoap12: { GetCases: handler('GetCases'), GetCaseRows: handler('GetCaseRows') },
      },
    };
    soap.listen(this.server, '/CaseExchange.asmx', service, DEPT_SOAP_WSDL(this.url));
    return this.url;
  }

  get wsdlUrl(): string {
    return `${this.url}?wsdl`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }
}
