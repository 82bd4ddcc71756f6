import { addDays } from '../dates.js'

type Raw = Record<string, unknown>

/** Right-pads a serial to 18 characters, as Insight's CHAR 18 field arrives in production. */
export const pad = (serial: string): string => serial.padEnd(18, ' ')

/**
 * The reference's worked example (one order, so `Order` is an object): a laptop line with quantity 3 shipped in
 * two deliveries (2 + 1, the second with `SerialNumbers` as an object, a `YYYYMMDD` date, no billing, tracking
 * only by delivery) and a non-serialised cable line. Three assets: PF4ABC12, PF4ABC13, PF4ABC14.
 */
export function exampleOrder (overrides: { created?: string, shipped?: string, secondShipped?: string } = {}): Raw {
  const created = overrides.created ?? '2026-04-06'
  const shipped = overrides.shipped ?? '2026-04-08'
  const second = overrides.secondShipped ?? '20260410'
  return {
    OrderHeader: [{ CustomerOrderNumber: 'PO-88231', InsightOrderNumber: '0419876543', OrderStatus: 'Partially Shipped', OrderCreationDate: created, ShippingCondition: '01', Webref: 70112233 }],
    OrderLineItems: [
      {
        InsightOrderItem: '000010',
        LineNumber: '000010',
        MaterialNumber: '20XW00ABUS',
        ManufacturerSKU: '20XW00ABUS',
        Manufacturer: 'LENOVO',
        MaterialDescription: 'THINKPAD T14 G5 I7 32GB 1TB W11P',
        MaterialGroupName: 'Notebooks - Mainstream',
        Quantity: '3.000',
        SalesUoM: 'EA',
        ItemStatus: 'Partially Shipped',
        Delivery: [
          {
            DeliveryNumber: '0805550001',
            DeliveryItem: '000010',
            Quantity: '2.000',
            ActualGoodsIssueDate: shipped,
            SerialNumbers: [{ SerialNumber: pad('PF4ABC12') }, { SerialNumber: pad('PF4ABC13') }],
            BillingInformation: [{ BillingNumber: '0915550001', BillingItem: '000010', BillingQuantity: '2.000', SalesUoM: 'EA' }]
          },
          { DeliveryNumber: '0805550002', DeliveryItem: '000010', Quantity: '1.000', ActualGoodsIssueDate: second, SerialNumbers: { SerialNumber: pad('PF4ABC14') } }
        ]
      },
      {
        InsightOrderItem: '000020',
        LineNumber: '000020',
        MaterialNumber: 'HDMI-3M',
        Manufacturer: 'STARTECH',
        MaterialDescription: 'HDMI CABLE 3M',
        Quantity: '100.000',
        SalesUoM: 'EA',
        ItemStatus: 'Fully Shipped',
        Delivery: { DeliveryNumber: '0805550001', DeliveryItem: '000020', Quantity: '100.000', ActualGoodsIssueDate: shipped }
      }
    ],
    Tracking: [
      { DeliveryNumber: '0805550001', DeliveryItem: '000010', SerialNumber: 'PF4ABC12', TrackingNumber: '1Z999AA10123456784', ShippingCarrier: 'UPS', ExpDelivCompany: 'UPSN' },
      { DeliveryNumber: '0805550002', DeliveryItem: '000010', TrackingNumber: '1Z999AA10123456795', ShippingCarrier: 'UPS' }
    ]
  }
}

const MODELS = [
  { Manufacturer: 'LENOVO', MaterialNumber: '20XW00ABUS', MaterialDescription: 'THINKPAD T14 G5 I7 32GB 1TB W11P', MaterialGroupName: 'Notebooks - Mainstream' },
  { Manufacturer: 'APPLE', MaterialNumber: 'MX2E3LL/A', MaterialDescription: 'MACBOOK PRO 14 M4 PRO 24GB 1TB', MaterialGroupName: 'Notebooks - Premium' },
  { Manufacturer: 'DELL', MaterialNumber: 'DELL-U2724D', MaterialDescription: 'DELL ULTRASHARP U2724D 27IN MONITOR', MaterialGroupName: 'Monitors' },
  { Manufacturer: 'HP', MaterialNumber: '8X5R1UT#ABA', MaterialDescription: 'HP ELITEDESK 800 G9 MINI I5 16GB', MaterialGroupName: 'Desktops' }
]

/**
 * Deterministic orders holding exactly `serials` serial numbers, created over `days` days ending at `to` and
 * shipped a day later: partial shipments, padded serials (a few numeric), both date formats, a cable line without
 * serials on every third order, tracking by serial or by delivery.
 */
export function generateOrders (options: { serials: number, to: string, days?: number, prefix?: string }): Raw[] {
  const days = options.days ?? 1
  const prefix = options.prefix ?? 'SIM'
  const orders: Raw[] = []
  let made = 0
  for (let n = 0; made < options.serials; n++) {
    const created = addDays(options.to, -((n % days) + 1))
    const shipped = addDays(created, 1)
    const model = MODELS[n % MODELS.length] as typeof MODELS[number]
    const quantity = Math.min(1 + (n % 6), options.serials - made)
    const serials = Array.from({ length: quantity }, (_, i) => {
      const seq = made + i
      return seq % 97 === 13 ? 9_000_000_000 + seq : pad(`${prefix}${String(seq).padStart(8, '0')}`)
    })
    made += quantity
    const orderNumber = String(410_000_000 + n).padStart(10, '0')
    const split = quantity > 1 ? Math.ceil(quantity / 2) : quantity
    const parts = [serials.slice(0, split), serials.slice(split)].filter((part) => part.length > 0)
    const deliveries = parts.map((part, i) => ({
      DeliveryNumber: String(805_000_000 + n * 2 + i).padStart(10, '0'),
      DeliveryItem: '000010',
      Quantity: `${part.length}.000`,
      SalesUoM: 'EA',
      ActualGoodsIssueDate: i === 0 ? shipped : shipped.replaceAll('-', ''),
      SerialNumbers: part.map((serial) => ({ SerialNumber: serial })),
      BillingInformation: [{ BillingNumber: String(915_000_000 + n * 2 + i).padStart(10, '0'), BillingItem: '000010', BillingQuantity: `${part.length}.000`, SalesUoM: 'EA' }]
    }))
    const lines: Raw[] = [{
      InsightOrderItem: '000010',
      LineNumber: '000010',
      ManufacturerSKU: model.MaterialNumber,
      ...model,
      Quantity: `${quantity}.000`,
      SalesUoM: 'EA',
      ItemStatus: 'Fully Shipped',
      Delivery: deliveries
    }]
    if (n % 3 === 0) {
      lines.push({
        InsightOrderItem: '000020',
        LineNumber: '000020',
        MaterialNumber: 'HDMI-3M',
        Manufacturer: 'STARTECH',
        MaterialDescription: 'HDMI CABLE 3M',
        Quantity: '64.000',
        SalesUoM: 'EA',
        ItemStatus: 'Fully Shipped',
        Delivery: [{ DeliveryNumber: deliveries[0]?.DeliveryNumber, DeliveryItem: '000020', Quantity: '64.000', ActualGoodsIssueDate: shipped }]
      })
    }
    orders.push({
      OrderHeader: [{ CustomerOrderNumber: `PO-${100_000 + n}`, InsightOrderNumber: orderNumber, OrderStatus: 'Fully Shipped', OrderCreationDate: created, ShippingCondition: '01', Webref: 70_000_000 + n }],
      OrderLineItems: lines,
      Tracking: deliveries.map((delivery, i) => ({
        DeliveryNumber: delivery.DeliveryNumber,
        DeliveryItem: '000010',
        // The first delivery's tracking names a serial; the second only its delivery (joined by number + item).
        ...(i === 0 ? { SerialNumber: String(delivery.SerialNumbers[0]?.SerialNumber).trim() } : {}),
        TrackingNumber: `1Z${String(n * 2 + i).padStart(16, '0')}`,
        ShippingCarrier: 'UPS'
      }))
    })
  }
  return orders
}
