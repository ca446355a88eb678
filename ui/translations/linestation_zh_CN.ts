<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>AlarmBanner</name>
    <message>
        <source>Acknowledge</source>
        <translation>确认</translation>
    </message>
    <message numerus="yes">
        <source>+%n more</source>
        <translation>
            <numerusform>另有 %n 条</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>Alarms</name>
    <message>
        <source>device said</source>
        <translation>设备原文</translation>
    </message>
    <message>
        <source>Item {seq} was not decided before its deadline: rejected</source>
        <translation>第 {seq} 件产品未能在期限前判定，已按不合格剔除</translation>
    </message>
    <message>
        <source>Slow the line or check the camera</source>
        <translation>请降低线速或检查相机</translation>
    </message>
    <message>
        <source>An item passed the printer with no code queued</source>
        <translation>有产品经过喷码机时没有待喷的码（漏喷）</translation>
    </message>
    <message>
        <source>Codes reached the printer too late: slow the line</source>
        <translation>码送到喷码机太迟，请降低线速</translation>
    </message>
    <message>
        <source>The inkjet printer stopped or reported a fault; its queued codes are void</source>
        <translation>喷码机停止响应或报故障，队列中的码已作废</translation>
    </message>
    <message>
        <source>Check the printer (ink, head, cable), then clear the fault</source>
        <translation>检查喷码机（墨水、喷头、线缆）后清除故障</translation>
    </message>
    <message>
        <source>The inkjet printer could not be reconnected</source>
        <translation>喷码机无法重新连接</translation>
    </message>
    <message>
        <source>Check the printer and its cable, then clear the fault</source>
        <translation>检查喷码机及其线缆后清除故障</translation>
    </message>
    <message>
        <source>The verify camera failed</source>
        <translation>校验相机故障</translation>
    </message>
    <message>
        <source>Check the camera, its cable and its light</source>
        <translation>检查相机、线缆和光源</translation>
    </message>
    <message>
        <source>Lost contact with the PLC</source>
        <translation>与 PLC 通信中断</translation>
    </message>
    <message>
        <source>Check the PLC and its network cable</source>
        <translation>检查 PLC 及其网线</translation>
    </message>
    <message>
        <source>Triggers from the PLC were lost: items passed unseen</source>
        <translation>PLC 触发信号丢失，有产品未经检测就通过了</translation>
    </message>
    <message>
        <source>Clear the line up to the camera</source>
        <translation>请清走输送线上相机之前的全部产品</translation>
    </message>
    <message>
        <source>The reject of item {seq} did not reach the PLC</source>
        <translation>第 {seq} 件产品的剔除指令未送达 PLC</translation>
    </message>
    <message>
        <source>Pull the item off by hand and check the PLC</source>
        <translation>请手动取下该产品并检查 PLC</translation>
    </message>
    <message>
        <source>The line stopped on an internal error</source>
        <translation>产线因内部错误停止</translation>
    </message>
    <message>
        <source>See the log, then restart the run</source>
        <translation>查看日志后重新开始生产</translation>
    </message>
    <message>
        <source>The disk holding the station&apos;s store is full ({where}): line stopped</source>
        <translation>工位数据库所在磁盘已满（{where}）：产线已停止</translation>
    </message>
    <message>
        <source>Have IT free space on that disk, then start the batch again: it resumes where it stopped</source>
        <translation>请 IT 清理该磁盘空间，然后重新开始该批次：将从停止处继续</translation>
    </message>
    <message>
        <source>The station&apos;s store is read-only ({where}): line stopped</source>
        <translation>工位数据库为只读（{where}）：产线已停止</translation>
    </message>
    <message>
        <source>Have IT make the store writable, then start the batch again</source>
        <translation>请 IT 恢复数据库的写权限，然后重新开始该批次</translation>
    </message>
    <message>
        <source>The station&apos;s store could not be written ({where}): line stopped</source>
        <translation>工位数据库无法写入（{where}）：产线已停止</translation>
    </message>
    <message>
        <source>Have IT check the disk, then start the batch again</source>
        <translation>请 IT 检查磁盘，然后重新开始该批次</translation>
    </message>
    <message>
        <source>The case camera failed</source>
        <translation>箱码相机故障</translation>
    </message>
    <message>
        <source>Check the case camera and its light</source>
        <translation>检查箱码相机及其光源</translation>
    </message>
    <message>
        <source>The box camera failed</source>
        <translation>盒码相机故障</translation>
    </message>
    <message>
        <source>Check the box camera and its light</source>
        <translation>检查盒码相机及其光源</translation>
    </message>
    <message>
        <source>The box label printer failed; the label it was printing is void</source>
        <translation>盒标打印机故障；正在打印的标签已作废</translation>
    </message>
    <message>
        <source>The checkweigher did not weigh the case: it goes to rework</source>
        <translation>检重秤未称到该箱：送返工</translation>
    </message>
    <message>
        <source>Check the checkweigher (power, cable, platform), then clear</source>
        <translation>检查检重秤（电源、线缆、秤台），然后清除故障</translation>
    </message>
    <message>
        <source>The case label printer failed; the label it was printing is void</source>
        <translation>箱标打印机故障，正在打印的标签已作废</translation>
    </message>
    <message>
        <source>Check labels and ribbon, then clear the fault</source>
        <translation>检查标签纸和碳带后清除故障</translation>
    </message>
    <message>
        <source>The verdict for case {case} did not reach the PLC</source>
        <translation>第 {case} 箱的判定结果未送达 PLC</translation>
    </message>
    <message>
        <source>Check the PLC</source>
        <translation>检查 PLC</translation>
    </message>
    <message>
        <source>The palletizer was not told to place the case</source>
        <translation>未能通知码垛机放置该箱</translation>
    </message>
    <message>
        <source>Not a case code: {code}</source>
        <translation>读到的不是箱码：{code}</translation>
    </message>
    <message>
        <source>Take the case off and check its label</source>
        <translation>请取下该箱并检查箱标</translation>
    </message>
    <message>
        <source>Case {code} is {state}: not ready for the pallet</source>
        <translation>箱 {code} 状态为“{state}”，不能上垛</translation>
    </message>
    <message>
        <source>Take the case off for QA</source>
        <translation>请取下该箱交质检处理</translation>
    </message>
    <message>
        <source>Case {code} already belongs to {pallet}</source>
        <translation>箱 {code} 已属于 {pallet}，不能再上垛</translation>
    </message>
    <message>
        <source>Case {code} belongs to held pallet {pallet}</source>
        <translation>箱 {code} 属于暂存垛 {pallet}</translation>
    </message>
    <message>
        <source>Take the case off, or resume that pallet and read the case again</source>
        <translation>取下该箱，或先提取该暂存垛再重新读取该箱</translation>
    </message>
    <message>
        <source>{count} rejects in a row: {reason}; the last code {code}</source>
        <translation>连续 {count} 次剔除：{reason}；最后一个码 {code}</translation>
    </message>
    <message>
        <source>Stop the infeed, look for codes printed or fed twice, then acknowledge</source>
        <translation>停止进料，查找重复喷印或重复上料的码，然后确认</translation>
    </message>
    <message>
        <source>The label of pallet {pallet} was not printed</source>
        <translation>垛 {pallet} 的垛标未打印</translation>
    </message>
    <message>
        <source>Reprint it with `station qa relabel`</source>
        <translation>请用 station qa relabel 补打垛标</translation>
    </message>
</context>
<context>
    <name>CollectScreen</name>
    <message>
        <source>Manual collection</source>
        <translation>手工采集</translation>
    </message>
    <message>
        <source>May close short (partial)</source>
        <translation>允许零箱</translation>
    </message>
    <message>
        <source>Start over</source>
        <translation>重新开始</translation>
    </message>
    <message>
        <source>Scan with the hand scanner</source>
        <translation>用手持扫码枪扫码</translation>
    </message>
    <message>
        <source>Scanned for this container</source>
        <translation>本包装已扫</translation>
    </message>
    <message>
        <source>Containers</source>
        <translation>已采集的包装</translation>
    </message>
    <message>
        <source>Container</source>
        <translation>包装码</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>No container level on this line holds codes.</source>
        <translation>本线没有可采集的包装层级。</translation>
    </message>
    <message>
        <source>Scan the %1 (%2 scanned)</source>
        <translation>请扫%1（已扫 %2）</translation>
    </message>
    <message>
        <source>Scan %3 × %1, then the container (%2 scanned)</source>
        <translation>请扫 %3 个%1，再扫包装码（已扫 %2）</translation>
    </message>
    <message>
        <source>%1 %2: %3 linked</source>
        <translation>%1 %2：已关联 %3 个</translation>
    </message>
    <message>
        <source>Refused, nothing linked: %1</source>
        <translation>已拒绝，未关联任何码：%1</translation>
    </message>
    <message numerus="yes">
        <source>%n linked</source>
        <translation>
            <numerusform>已关联 %n 个</numerusform>
        </translation>
    </message>
    <message>
        <source>Refused</source>
        <translation>已拒绝</translation>
    </message>
</context>
<context>
    <name>ConfirmDialog</name>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Confirm</source>
        <translation>确认</translation>
    </message>
</context>
<context>
    <name>ITScreen</name>
    <message>
        <source>Outbox</source>
        <translation>上传队列</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Tries</source>
        <translation>尝试次数</translation>
    </message>
    <message>
        <source>Unit</source>
        <translation>单元</translation>
    </message>
    <message>
        <source>What</source>
        <translation>内容</translation>
    </message>
    <message>
        <source>Upstream&apos;s answer</source>
        <translation>上级系统回复</translation>
    </message>
    <message>
        <source>Push now</source>
        <translation>立即上传</translation>
    </message>
    <message>
        <source>Retry parked</source>
        <translation>重试搁置项</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Back up store</source>
        <translation>备份数据库</translation>
    </message>
    <message>
        <source>Export a closed batch (EPCIS, CSV) to a folder</source>
        <translation>将已关闭批次导出到文件夹（EPCIS、CSV）</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>测试</translation>
    </message>
    <message>
        <source>The outbox is not part of this build.</source>
        <translation>此版本不含上传队列。</translation>
    </message>
    <message>
        <source>No upstream configured ([upstream] in config.toml).</source>
        <translation>未配置上级系统（config.toml 中的 [upstream]）。</translation>
    </message>
    <message>
        <source>Sends to: %1</source>
        <translation>上传至：%1</translation>
    </message>
    <message>
        <source>Pallet %1</source>
        <translation>垛 %1</translation>
    </message>
    <message>
        <source>Batch close</source>
        <translation>批次关闭</translation>
    </message>
    <message>
        <source>Correction</source>
        <translation>更正</translation>
    </message>
    <message>
        <source>QA release</source>
        <translation>质检放行</translation>
    </message>
    <message>
        <source>QA rejection</source>
        <translation>质检拒收</translation>
    </message>
    <message>
        <source>Shipment</source>
        <translation>出库</translation>
    </message>
    <message>
        <source>Whole batch</source>
        <translation>整批</translation>
    </message>
    <message>
        <source>waits for %1</source>
        <translation>等待 %1</translation>
    </message>
    <message>
        <source>upstream said: %1</source>
        <translation>上游答复：%1</translation>
    </message>
    <message>
        <source>Exported to %1</source>
        <translation>已导出至 %1</translation>
    </message>
    <message>
        <source>No backup of the store yet</source>
        <translation>数据库尚无备份</translation>
    </message>
    <message>
        <source>Last backup: %1, %2</source>
        <translation>上次备份：%1，%2</translation>
    </message>
    <message>
        <source>Store backed up to %1 (%2 codes, checked)</source>
        <translation>数据库已备份至 %1（%2 个码，已校验）</translation>
    </message>
    <message>
        <source>Push finished.</source>
        <translation>上传完成。</translation>
    </message>
</context>
<context>
    <name>LoginScreen</name>
    <message>
        <source>Log in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>Enter your name and PIN, or scan your badge.</source>
        <translation>请输入用户名和 PIN 码，或刷工牌。</translation>
    </message>
    <message>
        <source>User name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <source>PIN</source>
        <translation>PIN 码</translation>
    </message>
    <message>
        <source>Enter your name and PIN.</source>
        <translation>请输入用户名和 PIN 码。</translation>
    </message>
    <message>
        <source>Wrong PIN.</source>
        <translation>PIN 码错误。</translation>
    </message>
    <message>
        <source>Locked after too many wrong PINs; ask an administrator.</source>
        <translation>PIN 码错误次数过多，账户已锁定，请联系管理员。</translation>
    </message>
    <message>
        <source>Unknown or disabled user or badge.</source>
        <translation>用户或工牌不存在或已停用。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Batch %1 is running. Closing stops the line safely: the infeed stops first (PLC line stop), the items already on the conveyor are finished, then the line stops. The batch stays open.</source>
        <translation>批次 %1 正在运行。关闭将安全停线：先停止进料（PLC 停线），输送带上已有的产品处理完毕后再停线。批次保持打开。</translation>
    </message>
    <message>
        <source>Close LineStation</source>
        <translation>关闭 LineStation</translation>
    </message>
    <message>
        <source>Stop the line and close</source>
        <translation>停线并关闭</translation>
    </message>
    <message>
        <source>LineStation</source>
        <translation>LineStation 赋码工作站</translation>
    </message>
    <message>
        <source>Line</source>
        <translation>生产</translation>
    </message>
    <message>
        <source>Collect</source>
        <translation>手工采集</translation>
    </message>
    <message>
        <source>Orders</source>
        <translation>工单</translation>
    </message>
    <message>
        <source>QA</source>
        <translation>质检</translation>
    </message>
    <message>
        <source>IT</source>
        <translation>IT 运维</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>退出登录</translation>
    </message>
</context>
<context>
    <name>Names</name>
    <message>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>Starting</source>
        <translation>启动中</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>Stopping</source>
        <translation>停止中</translation>
    </message>
    <message>
        <source>Faulted</source>
        <translation>故障</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>待下达</translation>
    </message>
    <message>
        <source>Released</source>
        <translation>已下达</translation>
    </message>
    <message>
        <source>Held</source>
        <translation>已挂起</translation>
    </message>
    <message>
        <source>Completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Aborted</source>
        <translation>已中止</translation>
    </message>
    <message>
        <source>Available</source>
        <translation>可用</translation>
    </message>
    <message>
        <source>Reserved</source>
        <translation>已预留</translation>
    </message>
    <message>
        <source>Printed</source>
        <translation>已打印</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>已校验</translation>
    </message>
    <message>
        <source>Linked</source>
        <translation>已关联</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>已剔除</translation>
    </message>
    <message>
        <source>Decommissioned</source>
        <translation>已注销</translation>
    </message>
    <message>
        <source>Void</source>
        <translation>作废</translation>
    </message>
    <message>
        <source>Open</source>
        <translation>未封</translation>
    </message>
    <message>
        <source>Closed</source>
        <translation>已封</translation>
    </message>
    <message>
        <source>Partial</source>
        <translation>零箱</translation>
    </message>
    <message>
        <source>Pending</source>
        <translation>待上传</translation>
    </message>
    <message>
        <source>Sending</source>
        <translation>上传中</translation>
    </message>
    <message>
        <source>Acknowledged</source>
        <translation>已确认接收</translation>
    </message>
    <message>
        <source>Parked</source>
        <translation>已搁置</translation>
    </message>
    <message>
        <source>Not tested</source>
        <translation>未测试</translation>
    </message>
    <message>
        <source>Testing…</source>
        <translation>测试中…</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>Fault</source>
        <translation>故障</translation>
    </message>
    <message>
        <source>Line</source>
        <translation>产线</translation>
    </message>
    <message>
        <source>Station store</source>
        <translation>工位数据库</translation>
    </message>
    <message>
        <source>Release</source>
        <translation>放行</translation>
    </message>
    <message>
        <source>Decommission</source>
        <translation>注销</translation>
    </message>
    <message>
        <source>Destroy</source>
        <translation>销毁</translation>
    </message>
    <message>
        <source>Replace</source>
        <translation>替换</translation>
    </message>
    <message>
        <source>Unpack</source>
        <translation>拆箱</translation>
    </message>
    <message>
        <source>Unpack all</source>
        <translation>整体拆解</translation>
    </message>
    <message>
        <source>Recode</source>
        <translation>码替换</translation>
    </message>
    <message>
        <source>Re-aggregate</source>
        <translation>重新关联</translation>
    </message>
    <message>
        <source>Relabel</source>
        <translation>补打标签</translation>
    </message>
    <message>
        <source>Released by QA</source>
        <translation>已放行</translation>
    </message>
    <message>
        <source>Destroyed</source>
        <translation>已销毁</translation>
    </message>
    <message>
        <source>Rescan OK</source>
        <translation>复扫正常</translation>
    </message>
    <message>
        <source>Print acceptable</source>
        <translation>印刷合格</translation>
    </message>
    <message>
        <source>False reject</source>
        <translation>误剔除</translation>
    </message>
    <message>
        <source>Damaged</source>
        <translation>破损</translation>
    </message>
    <message>
        <source>Misprint</source>
        <translation>错印</translation>
    </message>
    <message>
        <source>Sample taken</source>
        <translation>抽样</translation>
    </message>
    <message>
        <source>Lost</source>
        <translation>丢失</translation>
    </message>
    <message>
        <source>Contaminated</source>
        <translation>污染</translation>
    </message>
    <message>
        <source>Rework</source>
        <translation>返工</translation>
    </message>
    <message>
        <source>Wrong product</source>
        <translation>产品错误</translation>
    </message>
    <message>
        <source>Customer return</source>
        <translation>客户退货</translation>
    </message>
    <message>
        <source>Packed by hand</source>
        <translation>人工装箱</translation>
    </message>
    <message>
        <source>Label damaged</source>
        <translation>标签损坏</translation>
    </message>
    <message>
        <source>Decision too late</source>
        <translation>判定超时</translation>
    </message>
    <message>
        <source>Not a case code on the pallet</source>
        <translation>垛上读到非箱码</translation>
    </message>
    <message>
        <source>Case not ready for the pallet</source>
        <translation>箱未就绪，不能上垛</translation>
    </message>
    <message>
        <source>added to</source>
        <translation>装入</translation>
    </message>
    <message>
        <source>removed from</source>
        <translation>移出</translation>
    </message>
    <message>
        <source>E-signature</source>
        <translation>电子签名</translation>
    </message>
    <message>
        <source>Label reprinted</source>
        <translation>已补打标签</translation>
    </message>
    <message>
        <source>Container closed</source>
        <translation>已封箱</translation>
    </message>
    <message>
        <source>Closed as partial</source>
        <translation>零箱封箱</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>操作员</translation>
    </message>
    <message>
        <source>QA</source>
        <translation>质检员</translation>
    </message>
    <message>
        <source>IT</source>
        <translation>IT 运维</translation>
    </message>
    <message>
        <source>Administrator</source>
        <translation>管理员</translation>
    </message>
</context>
<context>
    <name>OperatorScreen</name>
    <message>
        <source>Released batch</source>
        <translation>已下达批次</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Close batch</source>
        <translation>关闭批次</translation>
    </message>
    <message>
        <source>Planned</source>
        <translation>计划</translation>
    </message>
    <message>
        <source>Printed</source>
        <translation>已打印</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>已校验</translation>
    </message>
    <message>
        <source>Rejected</source>
        <translation>剔除</translation>
    </message>
    <message>
        <source>Cases</source>
        <translation>箱</translation>
    </message>
    <message>
        <source>Pallets</source>
        <translation>垛</translation>
    </message>
    <message>
        <source>Rate (items/min)</source>
        <translation>速度（件/分钟）</translation>
    </message>
    <message>
        <source>Verify camera</source>
        <translation>校验相机</translation>
    </message>
    <message>
        <source>No picture: the line is not running</source>
        <translation>无图像：产线未运行</translation>
    </message>
    <message>
        <source>Rejects by reason</source>
        <translation>剔除原因统计</translation>
    </message>
    <message>
        <source>Reset rejects</source>
        <translation>剔除清零</translation>
    </message>
    <message>
        <source>Latest reads</source>
        <translation>最近读码</translation>
    </message>
    <message>
        <source>Boxes</source>
        <translation>盒</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Count</source>
        <translation>数量</translation>
    </message>
    <message>
        <source>No released batch. Release one first.</source>
        <translation>没有已下达的批次，请先下达批次。</translation>
    </message>
    <message>
        <source>%1 · lot %2 · %3 items</source>
        <translation>%1 · 批号 %2 · %3 件</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Line stopped; the batch stays open.</source>
        <translation>产线已停止，批次仍未关闭。</translation>
    </message>
    <message>
        <source>Batch %1 finished and closed.</source>
        <translation>批次 %1 已完成并关闭。</translation>
    </message>
    <message>
        <source>1 %1 = %2 × %3</source>
        <translation>每 1 %1 装 %2 × %3</translation>
    </message>
    <message>
        <source>Start batch %1: %2, lot %3, %4 items. Packing %5:</source>
        <translation>开始批次 %1：%2，批号 %3，%4 件。包装比例 %5：</translation>
    </message>
    <message>
        <source>Start batch</source>
        <translation>开始批次</translation>
    </message>
    <message>
        <source>%1 %2: %3 inside (partial)</source>
        <translation>%1 %2：内含 %3（零箱）</translation>
    </message>
    <message>
        <source>Close batch %1? Partial containers listed below are closed as they are; unused codes are voided. A closed batch cannot run again.</source>
        <translation>确定关闭批次 %1？下列未装满的箱/垛将按现状封箱（零箱），未使用的码将作废。批次关闭后不能再生产。</translation>
    </message>
    <message>
        <source>Close batch %1? No container is open. Unused codes are voided. A closed batch cannot run again.</source>
        <translation>确定关闭批次 %1？当前没有未封的箱或垛。未使用的码将作废。批次关闭后不能再生产。</translation>
    </message>
    <message>
        <source>Batch closed.</source>
        <translation>批次已关闭。</translation>
    </message>
</context>
<context>
    <name>OrdersScreen</name>
    <message>
        <source>New work order</source>
        <translation>新建工单</translation>
    </message>
    <message>
        <source>Product</source>
        <translation>产品</translation>
    </message>
    <message>
        <source>Lot</source>
        <translation>批号</translation>
    </message>
    <message>
        <source>Planned quantity</source>
        <translation>计划数量</translation>
    </message>
    <message>
        <source>Production date</source>
        <translation>生产日期</translation>
    </message>
    <message>
        <source>Expiry date</source>
        <translation>有效期至</translation>
    </message>
    <message>
        <source>Order number</source>
        <translation>工单号</translation>
    </message>
    <message>
        <source>e.g. L2026-12-07A</source>
        <translation>例如 L2026-12-07A</translation>
    </message>
    <message>
        <source>items</source>
        <translation>件</translation>
    </message>
    <message>
        <source>Create work order</source>
        <translation>创建工单</translation>
    </message>
    <message>
        <source>Packing per container</source>
        <translation>每个包装的数量</translation>
    </message>
    <message>
        <source>%1 per %2</source>
        <translation>每个%2装%1</translation>
    </message>
    <message>
        <source>Set in config.toml; IT changes them.</source>
        <translation>在 config.toml 中设定，由 IT 修改。</translation>
    </message>
    <message>
        <source>Enter the planned quantity (a whole number).</source>
        <translation>请输入计划数量（整数）。</translation>
    </message>
    <message>
        <source>Enter the lot number.</source>
        <translation>请输入批号。</translation>
    </message>
    <message>
        <source>Work order %1 created: %2 items, released to the line.</source>
        <translation>工单 %1 已创建：%2 件，已下达到产线。</translation>
    </message>
</context>
<context>
    <name>PalletPanel</name>
    <message>
        <source>Close now</source>
        <translation>强制满垛</translation>
    </message>
    <message>
        <source>Hold</source>
        <translation>暂存</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>提取未成垛</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清空垛</translation>
    </message>
    <message>
        <source>Merge</source>
        <translation>合垛</translation>
    </message>
    <message>
        <source>No pallet open</source>
        <translation>当前无垛</translation>
    </message>
    <message>
        <source>Open pallet %1: %2 of %3 cases</source>
        <translation>当前垛 %1：%2/%3 箱</translation>
    </message>
    <message>
        <source>Held: %1</source>
        <translation>暂存：%1</translation>
    </message>
    <message>
        <source>Close pallet %1 now with %2 of %3 cases? It closes short and its label prints.</source>
        <translation>现在封垛 %1（%2/%3 箱）？按零垛封垛并打印垛标签。</translation>
    </message>
    <message>
        <source>Close pallet now</source>
        <translation>强制满垛</translation>
    </message>
    <message>
        <source>Park pallet %1 with %2 cases? The line starts a new pallet; scan a case on it to resume it.</source>
        <translation>暂存垛 %1（%2 箱）？产线开始新垛；扫描该垛上任一箱即可提取。</translation>
    </message>
    <message>
        <source>Hold pallet</source>
        <translation>暂存垛</translation>
    </message>
    <message>
        <source>%1 · %2 cases</source>
        <translation>%1 · %2 箱</translation>
    </message>
    <message>
        <source>Resume a held pallet</source>
        <translation>提取未成垛</translation>
    </message>
    <message>
        <source>Scan any case on the held pallet (or its label), or tap the pallet below.</source>
        <translation>扫描暂存垛上的任一箱（或垛标签），或点选下方的垛。</translation>
    </message>
    <message>
        <source>Case or pallet code</source>
        <translation>箱码或垛码</translation>
    </message>
    <message>
        <source>Clear pallet %1: its %2 cases come off and the pallet code is retired. Enter your PIN to sign.</source>
        <translation>清空垛 %1：卸下 %2 箱，垛码作废。请输入 PIN 签名。</translation>
    </message>
    <message>
        <source>Clear pallet</source>
        <translation>清空垛</translation>
    </message>
    <message>
        <source>Merge pallets</source>
        <translation>合垛</translation>
    </message>
    <message>
        <source>Scan a case (or the label) of the pallet that takes the cases, then one of the pallet to empty. At most %1 cases fit on a pallet.</source>
        <translation>先扫描接收垛上的一箱（或垛标签），再扫描要清空的垛上的一箱。每垛最多 %1 箱。</translation>
    </message>
    <message>
        <source>Pallet that takes the cases (A)</source>
        <translation>接收的垛（A）</translation>
    </message>
    <message>
        <source>Pallet to empty (B)</source>
        <translation>清空的垛（B）</translation>
    </message>
    <message>
        <source>Merge pallet %1 onto %2; %1 is retired. Enter your PIN to sign.</source>
        <translation>把垛 %1 合到垛 %2 上；垛 %1 作废。请输入 PIN 签名。</translation>
    </message>
    <message>
        <source>Pallet %1 closed with %2 cases.</source>
        <translation>垛 %1 已封垛，共 %2 箱。</translation>
    </message>
    <message>
        <source>Pallet %1 held.</source>
        <translation>垛 %1 已暂存。</translation>
    </message>
    <message>
        <source>Pallet %1 is open again (%2 cases).</source>
        <translation>垛 %1 已提取，继续码垛（%2 箱）。</translation>
    </message>
    <message>
        <source>Pallet %1 cleared: %2 cases off.</source>
        <translation>垛 %1 已清空：卸下 %2 箱。</translation>
    </message>
    <message>
        <source>%1 cases moved onto pallet %2; pallet %3 retired.</source>
        <translation>%1 箱已移到垛 %2；垛 %3 已作废。</translation>
    </message>
    <message>
        <source>Its label did not print: reprint it (QA, Relabel).</source>
        <translation>垛标签未打印：请补打（质检 → 补打标签）。</translation>
    </message>
    <message>
        <source>Wrong PIN: nothing was changed.</source>
        <translation>PIN 错误：未做任何更改。</translation>
    </message>
</context>
<context>
    <name>PinDialog</name>
    <message>
        <source>PIN</source>
        <translation>PIN 码</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Sign</source>
        <translation>签名</translation>
    </message>
</context>
<context>
    <name>QAScreen</name>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Scan a code with the hand scanner, or type it</source>
        <translation>用手持扫码枪扫码，或手动输入</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>码</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Batch</source>
        <translation>批次</translation>
    </message>
    <message>
        <source>In</source>
        <translation>所在容器</translation>
    </message>
    <message>
        <source>Pair</source>
        <translation>配对码</translation>
    </message>
    <message>
        <source>Holds</source>
        <translation>内含</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>What happened</source>
        <translation>记录</translation>
    </message>
    <message>
        <source>Reuse case code</source>
        <translation>保留箱码</translation>
    </message>
    <message>
        <source>Sign…</source>
        <translation>签名…</translation>
    </message>
    <message numerus="yes">
        <source>Reject queue (%n)</source>
        <translation>
            <numerusform>待复核剔除品（%n）</numerusform>
        </translation>
    </message>
    <message>
        <source>(no code read)</source>
        <translation>（未读到码）</translation>
    </message>
    <message numerus="yes">
        <source>%n code(s)</source>
        <translation>
            <numerusform>%n 个码</numerusform>
        </translation>
    </message>
    <message>
        <source>Codes to put in (space between)</source>
        <translation>要装入的码（以空格分隔）</translation>
    </message>
    <message>
        <source>New code (scan)</source>
        <translation>新码（请扫码）</translation>
    </message>
    <message>
        <source>%1: %2 (%3). Enter your PIN to sign.</source>
        <translation>%1：%2（%3）。请输入 PIN 码签名确认。</translation>
    </message>
    <message>
        <source>Unpack all of %1 %2: %3 come apart (%4). Enter your PIN to sign.</source>
        <translation>整体拆解%1 %2：将拆开 %3（%4）。请输入 PIN 签名。</translation>
    </message>
    <message>
        <source>Signature</source>
        <translation>电子签名</translation>
    </message>
    <message>
        <source>Done: %1.</source>
        <translation>已完成：%1。</translation>
    </message>
    <message>
        <source>Wrong PIN: nothing was changed.</source>
        <translation>PIN 码错误：未做任何更改。</translation>
    </message>
</context>
<context>
    <name>ReadsTable</name>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Code</source>
        <translation>码</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>层级</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>(no code read)</source>
        <translation>（未读到码）</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>合格</translation>
    </message>
    <message>
        <source>NG</source>
        <translation>剔除</translation>
    </message>
    <message>
        <source>%1 without a readable code: %2</source>
        <translation>%1 无可读码：%2</translation>
    </message>
</context>
<context>
    <name>ScanDialog</name>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Confirm</source>
        <translation>确认</translation>
    </message>
</context>
<context>
    <name>Short</name>
    <message>
        <source>PLC</source>
        <translation>PLC</translation>
    </message>
    <message>
        <source>Inkjet</source>
        <translation>喷码</translation>
    </message>
    <message>
        <source>Camera</source>
        <translation>相机</translation>
    </message>
    <message>
        <source>Camera 2</source>
        <translation>相机2</translation>
    </message>
    <message>
        <source>Item rdr</source>
        <translation>瓶读码</translation>
    </message>
    <message>
        <source>Box cam</source>
        <translation>盒相机</translation>
    </message>
    <message>
        <source>Box lbl</source>
        <translation>盒标</translation>
    </message>
    <message>
        <source>Case cam</source>
        <translation>箱相机</translation>
    </message>
    <message>
        <source>Case lbl</source>
        <translation>箱标</translation>
    </message>
    <message>
        <source>Scale</source>
        <translation>检重</translation>
    </message>
    <message>
        <source>Pallet lbl</source>
        <translation>垛标</translation>
    </message>
    <message>
        <source>Reader</source>
        <translation>读码</translation>
    </message>
</context>
<context>
    <name>StatusBar</name>
    <message>
        <source>Batch</source>
        <translation>批次</translation>
    </message>
    <message>
        <source>Line</source>
        <translation>产线</translation>
    </message>
    <message>
        <source>Rate</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Upstream</source>
        <translation>上传</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message numerus="yes">
        <source>%n/min</source>
        <translation>
            <numerusform>%n 件/分</numerusform>
        </translation>
    </message>
    <message>
        <source>not configured</source>
        <translation>未配置</translation>
    </message>
    <message numerus="yes">
        <source>parked: %n</source>
        <translation>
            <numerusform>搁置 %n 批</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>waiting: %n</source>
        <translation>
            <numerusform>待传 %n 批</numerusform>
        </translation>
    </message>
    <message>
        <source>up to date</source>
        <translation>已同步</translation>
    </message>
</context>
</TS>
